"""Runs the doctor's checks: Telegram first, then each enabled platform that has checks.

`PLATFORM_CHECKS` is the one table from a platform's name (its `channels:` key) to its checks;
a platform without an entry (the site widget) has nothing to ask a remote API about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from app.doctor.findings import Findings
from app.doctor.telegram import check_telegram

if TYPE_CHECKING:
    from config import BridgeConfig

#: (the platform's config section, http.public_url or None, findings) -> adds its lines.
PlatformCheck = Callable[[Any, str | None, Findings], Awaitable[None]]


async def _vk(section: Any, public_url: str | None, findings: Findings) -> None:
    from app.doctor.vk import check_vk

    await check_vk(section, public_url, findings)


async def _viber(section: Any, public_url: str | None, findings: Findings) -> None:
    from app.doctor.viber import check_viber

    await check_viber(section, public_url, findings)


async def _facebook(section: Any, public_url: str | None, findings: Findings) -> None:
    from app.doctor.facebook import check_facebook

    await check_facebook(section, findings)


PLATFORM_CHECKS: dict[str, PlatformCheck] = {"vk": _vk, "viber": _viber, "facebook": _facebook}


async def run_checks(config: BridgeConfig) -> Findings:
    """Every check for `config`; never raises for a platform's answer."""
    findings = Findings()
    await check_telegram(config, findings)
    public_url = None if config.http.public_url is None else str(config.http.public_url)
    for name in config.enabled_platforms():
        check = PLATFORM_CHECKS.get(name)
        section = config.section(name)
        if check is not None and section is not None:
            await check(section, public_url, findings)
    return findings
