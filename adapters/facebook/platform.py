"""Facebook Messenger as a registered platform: config section, checks, parts."""

from __future__ import annotations

from typing import Any

from adapters.facebook import look, pacing
from adapters.facebook.settings import FacebookSettings
from bridge.platforms import Platform, PlatformContext, PlatformParts, WebhookReport
from config.platforms import Caller, PlatformSchema, Raw, host_of, raw_text

NAME = "facebook"


def _callers(raw: Raw) -> list[Caller]:
    """Facebook calls the bridge's webhook (its servers, when the Graph API is the real one)."""
    host = host_of(raw_text(raw, "graph_url", FacebookSettings))
    return [Caller(NAME, host.endswith("facebook.com"))]


async def _register_webhook(section: Any, base: str, report: WebhookReport) -> None:
    from adapters.facebook.registration import register_webhook

    await register_webhook(section, base, report)


def build(section: FacebookSettings, context: PlatformContext) -> PlatformParts:
    """The Page's adapter (its webhook is served as a route)."""
    from adapters.common.parts import one_adapter_parts
    from adapters.facebook.adapter import FacebookAdapter

    adapter = FacebookAdapter(section, context.sink, channel=NAME, transaction=context.transaction)
    if context.dead_letters is not None:
        adapter.webhook.use_dead_letters(context.dead_letters, NAME)
    if context.transaction is not None:
        from adapters.facebook.deletion import DataDeletion
        from bridge.core.forget import Forgetter, Forgotten

        forgetter = Forgetter(context.sink.runtime, refresh=context.sink.refresh)

        async def forget(user: str) -> Forgotten | None:
            adapter.profiles.drop(user)  # the cached name and picture go too
            return await forgetter.forget(NAME, user)

        public_url = context.config.http.public_url
        adapter.use_data_deletion(
            DataDeletion(
                section.app_secret,
                str(public_url) if public_url else None,
                forget,
                context.transaction,
            )
        )
    return one_adapter_parts(adapter, context)


SCHEMA = PlatformSchema(
    name=NAME,
    section=FacebookSettings,
    callers=_callers,
    sample_secrets={
        ("page_token",): (
            "EAAJk3ZCq8ZBZAoBAO7xZCvT1ZBmQk2ZCWnZBd9sZA4pXyZCZBZCaZB7Lr",
            "the Page access token",
        ),
        ("app_secret",): ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "the App Secret"),
        ("verify_token",): ("Wm5Qp8Ls2Kd", "a verify token"),
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
