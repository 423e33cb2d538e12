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
    return findings
