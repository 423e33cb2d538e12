"""The platform-free core: inbound messages, claims, commands, counters, cards and texts."""
