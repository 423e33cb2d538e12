"""The operators' side in Telegram: the desk and the Bot API calls it makes."""
