"""Telegram customers as a registered platform: their config section, and their side of the bot.

Customers write to the bot of `telegram:`, whose updates intake the desk already runs: `build`
installs their handlers on it (after the desk's). The bot's sender and the Telegram outlet are
the desk's own (app/wiring.py's `build_runtime`), so the parts carry neither.
"""

from __future__ import annotations

from adapters.telegram import look
from adapters.telegram.settings import TelegramSettings
from bridge.platforms import Platform, PlatformContext, PlatformParts
from config.platforms import PlatformSchema

NAME = "telegram"


def build(section: TelegramSettings, context: PlatformContext) -> PlatformParts:
    """Serve Telegram customers from the desk bot's updates intake."""
    from adapters.telegram.customers import TelegramCustomers

    assert context.bot_updates is not None, "Telegram customers need the desk bot's updates"
    TelegramCustomers(context.sink).install(context.bot_updates)
    return PlatformParts()


SCHEMA = PlatformSchema(name=NAME, section=TelegramSettings)

PLATFORM = Platform(
    schema=SCHEMA,
    build=build,
    display_names=look.DISPLAY_NAMES,
    badge=look.BADGE,
    aliases=look.ALIASES,
    max_text=look.MAX_TEXT,
)
