"""`set-webhooks` for Viber: `set_webhook` with the events the bridge uses."""

from __future__ import annotations

from adapters.common.http import client_session
from adapters.viber.adapter import EVENT_TYPES
from adapters.viber.callback import PATH
from adapters.viber.client import ViberApi
from adapters.viber.settings import ViberSettings
from bridge.errors import BridgeError
from bridge.platforms import WebhookReport


async def register_webhook(section: ViberSettings, base: str, report: WebhookReport) -> None:
    """Point the bot at `base` + /webhooks/viber (Viber calls it before it accepts it)."""
    url = base + PATH
    async with client_session() as http:
        api = ViberApi(str(section.api_url), section.token, lambda: http)
        try:
            await api.call(
                "set_webhook", {"url": url, "event_types": EVENT_TYPES, "send_name": True}
            )
        except BridgeError as exc:
            report.bad(f"Viber: set_webhook {url} refused: {exc} (is the bridge running?)")
            return
    report.good(f"Viber: webhook {url}")
