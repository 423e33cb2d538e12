"""Bot API methods for receiving updates (getUpdates, webhooks), callback answers and files."""

from __future__ import annotations

import re
from typing import Any

from sandbox.telegram.errors import ApiError, bad_request
from sandbox.telegram.registry import Call, api
from sandbox.telegram.shapes import file_json
from sandbox.telegram.updates import DEFAULT_ALLOWED, Webhook

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_GET_FILE_MAX = 20 * 1024 * 1024
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@api("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    feed = call.fake.feed(call.bot)
    if feed.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    if call.get("allowed_updates") is not None:
        feed.allowed = frozenset(call.get("allowed_updates")) or DEFAULT_ALLOWED
    limit = min(100, max(1, call.get("limit", 100)))
    timeout = max(0, call.get("timeout", 0))
    return await feed.get(call.get("offset", 0), limit, timeout)


@api("setWebhook")
async def set_webhook(call: Call) -> bool:
    feed = call.fake.feed(call.bot)
    url = call.get("url")
    if not url:
        await feed.delete_webhook()
        return True
    if not url.startswith(("http://", "https://")):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = call.get("secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = call.get("max_connections", 40)
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be 1-100")
    if call.get("drop_pending_updates"):
        feed.drop_pending()
    if call.get("allowed_updates") is not None:
        feed.allowed = frozenset(call.get("allowed_updates")) or DEFAULT_ALLOWED
    feed.set_webhook(Webhook(url=url, secret_token=secret, max_connections=max_connections))
    return True


@api("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    feed = call.fake.feed(call.bot)
    await feed.delete_webhook()
    if call.get("drop_pending_updates"):
        feed.drop_pending()
    return True


@api("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    feed = call.fake.feed(call.bot)
    info: dict[str, Any] = {
        "url": feed.webhook.url if feed.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(feed.pending),
    }
    if feed.webhook is not None:
        info["max_connections"] = feed.webhook.max_connections
        info["allowed_updates"] = sorted(feed.allowed)
        if feed.webhook.last_error_date is not None:
            info["last_error_date"] = feed.webhook.last_error_date
            info["last_error_message"] = feed.webhook.last_error_message
    return info


@api("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    query = call.world.callbacks.get(call.get("callback_query_id"))
    if query is None or query.bot_id != call.bot.id or query.answer is not None:
        raise bad_request(QUERY_TOO_OLD)
    if call.fake.clock() > query.deadline:
        raise bad_request(QUERY_TOO_OLD)
    query.answer = {
        "text": call.get("text"),
        "show_alert": bool(call.get("show_alert", False)),
        "url": call.get("url"),
        "cache_time": call.get("cache_time", 0),
    }
    return True


@api("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    stored = call.world.files.get(call.get("file_id"))
    if stored is None:
        raise bad_request("invalid file_id")
    if len(stored.data) > _GET_FILE_MAX:
        raise bad_request("file is too big")
    return file_json(stored)
