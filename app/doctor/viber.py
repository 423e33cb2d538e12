"""The doctor's Viber checks: the bot account's token and its webhook."""

from __future__ import annotations

import aiohttp

from adapters.viber.callback import PATH
from adapters.viber.settings import ViberSettings
from app.doctor.findings import Findings
from app.doctor.http import CallFailed, call_json


async def check_viber(settings: ViberSettings, public_url: str | None, findings: Findings) -> None:
    """get_account_info answers with the token, and its webhook is the bridge's."""
    url = str(settings.api_url).rstrip("/") + "/get_account_info"
    async with aiohttp.ClientSession() as session:
        try:
            _, info = await call_json(
                session, "POST", url, json={}, headers={"X-Viber-Auth-Token": settings.token}
            )
        except CallFailed as exc:
            info = {"status": -1, "status_message": str(exc)}
    if not isinstance(info, dict) or info.get("status") != 0:
        message = info.get("status_message") if isinstance(info, dict) else info
        findings.bad(
            f"Viber: the token does not work (get_account_info: {message})",
            "copy the token from the Viber bot's admin panel (partners.viber.com) into "
            "channels.viber.token",
        )
        return
    findings.good(f"Viber: token works ({info.get('name')})")
    if public_url is None:
        findings.bad(
            "Viber: http.public_url is not set, Viber has no address to deliver to",
            "set http.public_url to the bridge's public https address",
        )
        return
    ours = public_url.rstrip("/") + PATH
    current = info.get("webhook") or ""
    if current == ours:
        findings.good(f"Viber: webhook is {ours}")
    else:
        findings.bad(
            f"Viber: the webhook is {current or 'not set'}, not {ours}",
            "run `talker-bridge set-webhooks` while the bridge is running",
        )
