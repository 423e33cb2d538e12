"""Telegram customers: private chats with the bot (the same bot that serves the operators' desk).

`customers.py` serves their updates from the shared updates intake (botapi/updates.py) and
reports them to the core's sink; `convert.py` turns an aiogram Message into
`bridge.events.Inbound`; `outlet.py` turns an operator's reply into outbox rows of Bot API
calls (sent by botapi/sender.py). The composition root (app/wiring.py) installs them.
"""

# Imported before aiogram: it defers aiogram's model builds (botapi/models.py).
import botapi  # noqa: F401
from adapters.telegram.platform import PLATFORM

__all__ = ["PLATFORM"]
