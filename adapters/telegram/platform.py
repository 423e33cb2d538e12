"""Telegram customers as a registered platform: their config section (the desk's bot serves them).

There is nothing to build: customers write to the bot of `telegram:`, whose updates the desk's
intake already receives, and the desk's Telegram sender delivers the replies.
"""

from __future__ import annotations

from adapters.telegram.settings import TelegramSettings
from bridge.platforms import Platform
from config.platforms import PlatformSchema

NAME = "telegram"

SCHEMA = PlatformSchema(name=NAME, section=TelegramSettings)

# TODO(A2): display_names=DISPLAY_NAMES, badge=BADGE, max_text=MAX_TEXT from
# adapters.telegram.look and buckets from adapters.telegram.pacing, once those modules land.
PLATFORM = Platform(schema=SCHEMA)
