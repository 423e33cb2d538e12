"""Telegram customers: private chats with the bot (the same bot that serves the operators' desk).

`convert.py` turns an aiogram Message into `bridge.events.Inbound`; `outlet.py` turns an
operator's reply into outbox rows of Bot API calls (sent by botapi/sender.py).
"""

# Imported before aiogram: it defers aiogram's model builds (botapi/models.py).
import botapi  # noqa: F401
from adapters.telegram.platform import PLATFORM

__all__ = ["PLATFORM"]
