"""`set-webhooks` for Facebook: what to paste into Meta's console (Meta has no API for it)."""

from __future__ import annotations

from adapters.facebook.settings import FacebookSettings
from adapters.facebook.webhook import PATH
from bridge.platforms import WebhookReport


async def register_webhook(section: FacebookSettings, base: str, report: WebhookReport) -> None:
    """Print the callback URL, the verify token and the fields to subscribe the Page to."""
    report.good("Facebook: in Meta's console (Messenger → Webhooks) paste:")
    report.note(f"Callback URL: {base}{PATH}")
    report.note(f"Verify token: {section.verify_token}")
    report.note(
        "and subscribe the Page to: messages, messaging_postbacks, "
        "message_deliveries, message_reads"
    )
