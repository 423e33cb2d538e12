"""VK as a registered platform: its config section, checks and parts (see bridge.platforms)."""

from __future__ import annotations

from typing import Any

from adapters.vk import look, pacing
from adapters.vk.settings import VkSettings
from bridge.platforms import Platform, PlatformContext, PlatformParts, WebhookReport
from config.paths import Problem
from config.platforms import Caller, PlatformSchema, Raw, host_of, raw_text

NAME = "vk"
REAL_HOSTS = ("api.vk.ru", "api.vk.com")


def _callback_keys(raw: Raw) -> list[Problem]:
    """The Callback API needs the secret and the confirmation string."""
    if raw.get("updates") != "callback":
        return []
    return [
        ((key,), f"required when updates is callback ({why})")
        for key, why in (
            ("secret", "proves a call comes from VK"),
            ("confirmation", "the string VK expects back when it checks the server"),
        )
        if raw.get(key) is None
    ]


def _callers(raw: Raw) -> list[Caller]:
    if raw.get("updates") != "callback":
        return []
    return [Caller("vk callback", host_of(raw_text(raw, "api_url", VkSettings)) in REAL_HOSTS)]


def _summary(section: VkSettings) -> str:
    return f"{NAME} ({section.updates})"


async def _register_webhook(section: Any, base: str, report: WebhookReport) -> None:
    from adapters.vk.registration import register_webhook

    await register_webhook(section, base, report)


def build(section: VkSettings, context: PlatformContext) -> PlatformParts:
    """The community's adapter (long poll as the leader's duty, or the Callback API routes)."""
    from adapters.common.parts import one_adapter_parts
    from adapters.vk.adapter import VkAdapter
    from bridge.cursors import StoredCursor

    assert context.transaction is not None, "VK's long poll keeps its ts in the database"
    cursor = StoredCursor(context.transaction, f"vk:longpoll:ts:{section.group_id}")
    adapter = VkAdapter(
        section,
        context.sink,
        leader=context.leader,
        ts_store=cursor,
        transaction=context.transaction,
        channel=NAME,
    )
    if adapter.callback is not None and context.dead_letters is not None:
        adapter.callback.use_storage(context.dead_letters, context.transaction)
    if adapter.poller is not None and context.dead_letters is not None:
        adapter.poller.use_dead_letters(context.dead_letters, NAME)
    return one_adapter_parts(adapter, context)


SCHEMA = PlatformSchema(
    name=NAME,
    section=VkSettings,
    rules=_callback_keys,
    callers=_callers,
    summary=_summary,
    sample_secrets={
        ("token",): (
            "vk1.a.Tq2Wd8Lk4Ns6Xb0Pm3Rc7Vf1Hy5Jz9Ga2Ue6Oi0Kt4Sl8Qw3Er7Ty1Ui5Op9As3Df7Gh",
            "the community token",
        ),
        ("secret",): ("Hq3Nc8Wt1Zk6Rv", "a callback secret"),
        ("confirmation",): ("e5d2a8f1", "the confirmation string"),
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
