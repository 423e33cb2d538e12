"""`channels.telegram`: Telegram customers, who write to the desk's bot (`telegram:`)."""

from __future__ import annotations

from config.fields import Name, Section


class TelegramSettings(Section):
    """Customers who write to the bot in private chats; uses the bot of `telegram:`."""

    group: Name
