"""Meta's Data Deletion Request Callback (issue 17): `POST /webhooks/facebook/data-deletion`.

When a person removes the app and asks for their data to be deleted, Meta posts a form body
`signed_request=<signature>.<payload>`, both parts base64url without padding: the payload is
JSON (`algorithm: HMAC-SHA256`, `user_id`: the app-scoped id, `issued_at`, ...) and the
signature is the HMAC-SHA256 of the payload part (as sent) under the App Secret. A request
whose signature does not match, or that is malformed, gets a 4xx and changes nothing.

A valid one deletes the Messenger customer's data as `talker-bridge forget` does (the core's
`Forgetter`) and answers `{"url": "<public_url>/webhooks/facebook/data-deletion/status?id=
<code>", "confirmation_code": "<code>"}`. The code is random (it tells nothing about the
person) and its outcome is kept in the `kv` table, so `GET .../status?id=<code>` shows the
request's state in plain words, from any process and after a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from aiohttp import web

from adapters.common.webhook_input import read_body
from storage.state import kv_get, kv_set

if TYPE_CHECKING:
    from bridge.core.forget import Forgotten
    from bridge.cursors import Transaction

log = logging.getLogger(__name__)

PATH = "/webhooks/facebook/data-deletion"
STATUS_PATH = PATH + "/status"
#: A signed request is short; anything far larger is not one.
MAX_BODY = 16 * 1024
CODE = re.compile(r"^[0-9a-f]{20}$")
KV_PREFIX = "facebook:data-deletion:"

Forget = Callable[[str], Awaitable["Forgotten | None"]]


class SignedRequestRefused(ValueError):
    """The signed request is forged or malformed (the message says which, for the log)."""


def _b64decode(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SignedRequestRefused("not base64url") from exc


def parse_signed_request(signed_request: str, app_secret: str) -> dict[str, Any]:
    """The checked payload of a `signed_request`; SignedRequestRefused when forged/malformed."""
    signature_part, dot, payload_part = signed_request.partition(".")
    if not dot or not signature_part or not payload_part or "." in payload_part:
        raise SignedRequestRefused("not <signature>.<payload>")
    if not payload_part.isascii() or not signature_part.isascii():
        raise SignedRequestRefused("not base64url")
    given = _b64decode(signature_part)
    expected = hmac.new(app_secret.encode(), payload_part.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(given, expected):
        raise SignedRequestRefused("bad signature")
    try:
        payload = json.loads(_b64decode(payload_part))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignedRequestRefused("payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise SignedRequestRefused("payload is not an object")
    if str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignedRequestRefused("algorithm is not HMAC-SHA256")
    user = payload.get("user_id")
    if not isinstance(user, str | int) or isinstance(user, bool) or not str(user).strip():
        raise SignedRequestRefused("no user_id")
    return payload


class DataDeletion:
    """The callback and its status page for one Facebook app."""

    def __init__(
        self, app_secret: str, public_url: str | None, forget: Forget, transaction: Transaction
    ) -> None:
        self._app_secret = app_secret
        self._public_url = (public_url or "").rstrip("/")
        self._forget = forget
        self._transaction = transaction

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.post(PATH, self.request), web.get(STATUS_PATH, self.status)]

    async def request(self, request: web.Request) -> web.Response:
        raw = await read_body(request, MAX_BODY)
        try:
            form = parse_qs(raw.decode("ascii"), strict_parsing=True)
            values = form.get("signed_request") or []
            if len(values) != 1:
                raise SignedRequestRefused("no single signed_request field")
            payload = parse_signed_request(values[0], self._app_secret)
        except (UnicodeDecodeError, ValueError) as exc:
            log.info("Messenger data deletion request refused: %s", exc)
            return web.json_response({"error": "invalid signed_request"}, status=400)
        forgotten = await self._forget(str(payload["user_id"]).strip())
        code = secrets.token_hex(10)
        outcome = {
            "state": "deleted" if forgotten is not None else "nothing held",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "messages": forgotten.messages if forgotten is not None else 0,
        }
        async with self._transaction() as session:
            await kv_set(session, KV_PREFIX + code, json.dumps(outcome))
        log.info("Messenger data deletion request %s: %s", code, outcome["state"])
        url = f"{self._public_url}{STATUS_PATH}?id={code}"
        return web.json_response({"url": url, "confirmation_code": code})

    async def status(self, request: web.Request) -> web.Response:
        code = request.query.get("id", "")
        stored = None
        if CODE.match(code):
            async with self._transaction() as session:
                stored = await kv_get(session, KV_PREFIX + code)
        if stored is None:
            return web.Response(status=404, text="No data deletion request has this code.\n")
        outcome = json.loads(stored)
        if outcome["state"] == "deleted":
            what = (
                f"Completed on {outcome['at']}: your messages ({outcome['messages']}), "
                "files and profile were deleted."
            )
        else:
            what = f"Completed on {outcome['at']}: we held no data about you."
        return web.Response(text=f"Data deletion request {code}\nStatus: {what}\n")
