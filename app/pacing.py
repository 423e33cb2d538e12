"""The customer platforms' pacing, as the outbox policy wants it: family -> `PlatformPacing`.

Until the platform registry lists every platform's `pacing.buckets` and `look.MAX_TEXT`, this
is where the root pairs each enabled channel's config section with its platform's pacing. The
bot's own pacing ("telegram", which Telegram customers share) is the runtime's
(`botapi.pacing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.outbox.policy import PacingPolicy, PlatformPacing

if TYPE_CHECKING:
    from config import BridgeConfig


def customer_pacing(config: BridgeConfig) -> dict[str, PlatformPacing]:
    """One entry per customer platform that `config` turns on (the site widget: unlimited)."""
    from adapters.facebook import look as facebook_look
    from adapters.facebook import pacing as facebook_pacing
    from adapters.site import look as site_look
    from adapters.viber import look as viber_look
    from adapters.viber import pacing as viber_pacing
    from adapters.vk import look as vk_look
    from adapters.vk import pacing as vk_pacing

    channels = config.channels
    pacing: dict[str, PlatformPacing] = {}
    if channels.vk is not None:
        pacing["vk"] = PlatformPacing(vk_pacing.buckets(channels.vk), vk_look.MAX_TEXT)
    if channels.viber is not None:
        pacing["viber"] = PlatformPacing(viber_pacing.buckets(channels.viber), viber_look.MAX_TEXT)
    if channels.facebook is not None:
        pacing["facebook"] = PlatformPacing(
            facebook_pacing.buckets(channels.facebook), facebook_look.MAX_TEXT
        )
    if channels.site is not None:
        pacing["site"] = PlatformPacing(None, site_look.MAX_TEXT)
    return pacing


def pacing_policy(config: BridgeConfig, *, time_scale: float = 1.0) -> PacingPolicy:
    """The process's pacing: the bot's own limits ("telegram", from `telegram.limits`) and the
    customer platforms' rates."""
    from botapi.pacing import platform_pacing

    platforms = {**customer_pacing(config), "telegram": platform_pacing(config.telegram.limits)}
    return PacingPolicy(platforms=platforms, time_scale=time_scale)
