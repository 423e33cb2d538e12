"""Runs the doctor's checks: Telegram first, then each enabled platform that has checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.doctor.findings import Findings
from app.doctor.telegram import check_telegram

if TYPE_CHECKING:
    from config import BridgeConfig


async def run_checks(config: BridgeConfig) -> Findings:
    """Every check for `config`; never raises for a platform's answer."""
    findings = Findings()
    await check_telegram(config, findings)
    public_url = None if config.http.public_url is None else str(config.http.public_url)
    vk = config.section("vk")
    if vk is not None:
        from adapters.vk.settings import VkSettings
        from app.doctor.vk import check_vk

        if isinstance(vk, VkSettings):
            await check_vk(vk, public_url, findings)
    viber = config.section("viber")
    if viber is not None:
        from adapters.viber.settings import ViberSettings
        from app.doctor.viber import check_viber

        if isinstance(viber, ViberSettings):
            await check_viber(viber, public_url, findings)
    facebook = config.section("facebook")
    if facebook is not None:
        from adapters.facebook.settings import FacebookSettings
        from app.doctor.facebook import check_facebook

        if isinstance(facebook, FacebookSettings):
            await check_facebook(facebook, findings)
    return findings
