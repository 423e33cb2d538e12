"""The operators' desk: the Telegram group with its Incoming feed, cards, topics and commands."""

import botapi  # noqa: F401  (defers aiogram's model builds before any aiogram import)
