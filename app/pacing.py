"""The customer platforms' pacing, as the outbox policy wants it: family -> `PlatformPacing`.

The root pairs each enabled platform's config section with its descriptor's `buckets` and
`max_text` (adapters/<platform>/pacing.py and look.py). The bot's own pacing ("telegram",
which Telegram customers share) is the runtime's (`botapi.pacing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.outbox.policy import PacingPolicy, PlatformPacing

if TYPE_CHECKING:
    from botapi.pacing import CardsWaiting
    from bridge.platforms import Registry
    from config import BridgeConfig


def customer_pacing(
    config: BridgeConfig, platforms: Registry | None = None
) -> dict[str, PlatformPacing]:
    """One entry per registered platform that `config` turns on (no `buckets`: unlimited)."""
    from app.platforms import registry

    pacing: dict[str, PlatformPacing] = {}
    for platform in registry() if platforms is None else platforms:
        section = config.section(platform.name)
        if section is None:
            continue
        buckets = platform.buckets(section) if platform.buckets is not None else None
        pacing[platform.name] = PlatformPacing(buckets, platform.max_text)
    return pacing


def pacing_policy(
    config: BridgeConfig,
    *,
    time_scale: float = 1.0,
    platforms: Registry | None = None,
    cards_waiting: CardsWaiting | None = None,
) -> PacingPolicy:
    """The process's pacing: the customer platforms' rates and the bot's own limits
    ("telegram", from `telegram.limits`, which Telegram customers share). `cards_waiting`
    tells which groups keep a reserve for Accept (botapi/pacing.py); None: all."""
    from botapi.pacing import platform_pacing

    customers = customer_pacing(config, platforms)
    telegram = platform_pacing(config.telegram.limits, cards_waiting=cards_waiting)
    return PacingPolicy(
        platforms={**customers, "telegram": telegram},
        time_scale=time_scale,
    )
