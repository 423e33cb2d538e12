"""Viber as a registered platform: its config section, checks and parts (see bridge.platforms)."""

from __future__ import annotations

from typing import Any

from adapters.viber import look, pacing
from adapters.viber.settings import ViberSettings
from bridge.platforms import Platform, PlatformContext, PlatformParts, WebhookReport
from config.platforms import Caller, PlatformSchema, Raw, host_of, raw_text

NAME = "viber"
REAL_HOSTS = ("chatapi.viber.com",)


def _callers(raw: Raw) -> list[Caller]:
    """Viber calls the bridge's webhook."""
    return [Caller(NAME, host_of(raw_text(raw, "api_url", ViberSettings)) in REAL_HOSTS)]


async def _register_webhook(section: Any, base: str, report: WebhookReport) -> None:
    from adapters.viber.registration import register_webhook

    await register_webhook(section, base, report)


def build(section: ViberSettings, context: PlatformContext) -> PlatformParts:
    """The bot's adapter (its webhook is served as a route)."""
    from adapters.common.parts import one_adapter_parts
    from adapters.viber.adapter import ViberAdapter

    adapter = ViberAdapter(section, context.sink, channel=NAME)
    if context.dead_letters is not None:
        adapter.callback.use_dead_letters(context.dead_letters, NAME)
    return one_adapter_parts(adapter, context)


SCHEMA = PlatformSchema(
    name=NAME,
    section=ViberSettings,
    callers=_callers,
    sample_secrets={
        ("token",): ("4b2c1f7e9a8d6c5b-3e2f1a0b9c8d7e6f-5a4b3c2d1e0f9a8b", "the bot's token"),
    },
)

PLATFORM = Platform(
    schema=SCHEMA,
    build=build,
    register_webhook=_register_webhook,
    display_names=look.DISPLAY_NAMES,
    badge=look.BADGE,
    aliases=look.ALIASES,
    max_text=look.MAX_TEXT,
    buckets=pacing.buckets,
)
