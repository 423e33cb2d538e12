"""The doctor's Facebook checks: the page token, and the app's subscription to the Page."""

from __future__ import annotations

from typing import Any

import aiohttp

from adapters.facebook.settings import FacebookSettings
from app.doctor.findings import Findings
from app.doctor.http import CallFailed, call_json

#: The webhook fields the bridge handles (adapters/facebook/convert.py; `set-webhooks` prints
#: the same list).
NEEDED_FIELDS = ("messages", "messaging_postbacks", "message_deliveries", "message_reads")


class GraphError(Exception):
    """A Graph API call answered with an error (or not at all)."""


async def _get(session: aiohttp.ClientSession, settings: FacebookSettings, path: str) -> Any:
    url = str(settings.graph_url).rstrip("/") + path
    headers = {"Authorization": f"Bearer {settings.page_token}"}
    try:
        status, body = await call_json(session, "GET", url, headers=headers)
    except CallFailed as exc:
        raise GraphError(str(exc)) from exc
    if status != 200 or not isinstance(body, dict) or "error" in body:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise GraphError(str(error.get("message") or f"HTTP {status}"))
    return body


async def check_facebook(settings: FacebookSettings, findings: Findings) -> None:
    """GET /me works with the page token; the app is subscribed to the Page's fields."""
    async with aiohttp.ClientSession() as session:
        try:
            page = await _get(session, settings, "/me")
        except GraphError as exc:
            findings.bad(
                f"Facebook: the page token does not work (GET /me: {exc})",
                "Meta's console → Messenger → Settings → Access tokens → Generate token for "
                "the Page, put it in channels.facebook.page_token",
            )
            return
        findings.good(f"Facebook: page token works ({page.get('name')}, {page.get('id')})")
        try:
            apps = await _get(session, settings, f"/{page.get('id')}/subscribed_apps")
        except GraphError as exc:
            findings.bad(
                f"Facebook: the Page's subscribed apps are unreadable ({exc})",
                "give the page token the pages_manage_metadata permission",
            )
            return
    subscribed = {
        name for app in apps.get("data", []) for name in app.get("subscribed_fields", [])
    }
    fields = ", ".join(NEEDED_FIELDS)
    if not apps.get("data"):
        findings.bad(
            "Facebook: the app is not subscribed to the Page",
            f"Meta's console → Messenger → Webhooks → Add subscriptions for the Page: {fields}",
        )
        return
    missing = [name for name in NEEDED_FIELDS if name not in subscribed]
    if missing:
        findings.bad(
            f"Facebook: the Page's webhook fields miss {', '.join(missing)}",
            f"Meta's console → Messenger → Webhooks → the Page → Edit → turn on "
            f"{', '.join(missing)}",
        )
    else:
        findings.good(f"Facebook: the app is subscribed to the Page ({fields})")
