"""Signed visitor tokens: `<visitor id>.<signature>`, HMAC-SHA256 with the config's signing key.

The signature covers the widget id and the visitor id, so a token opens that visitor's
conversation on that widget only. The server mints visitor ids (random, 128 bits); a visitor
cannot pick someone else's id without the key. File links are signed the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from bridge.web.untrusted import same_secret

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
_SIGNATURE_CHARS = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _sign(key: bytes, purpose: str, *parts: str) -> str:
    message = "\x1f".join((purpose, *parts)).encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())[:_SIGNATURE_CHARS]


def new_visitor_id() -> str:
    """A fresh random visitor id (22 URL-safe characters)."""
    return _b64(secrets.token_bytes(16))


def issue_token(key: bytes, widget_id: str, visitor_id: str) -> str:
    """The token that proves `visitor_id` on `widget_id`."""
    if not VISITOR_ID.match(visitor_id):
        raise ValueError(f"not a visitor id: {visitor_id!r}")
    return f"{visitor_id}.{_sign(key, 'visitor', widget_id, visitor_id)}"


def verify_token(key: bytes, widget_id: str, token: str | None) -> str | None:
    """The visitor id a genuine token names; None for a missing, malformed or forged one."""
    if not token or len(token) > 100:
        return None
    visitor_id, _, signature = token.partition(".")
    if not VISITOR_ID.match(visitor_id) or len(signature) != _SIGNATURE_CHARS:
        return None
    expected = _sign(key, "visitor", widget_id, visitor_id)
    if not same_secret(signature, expected):
        return None
    return visitor_id


def file_signature(key: bytes, widget_id: str, visitor_id: str, file_id: str) -> str:
    """The unguessable part of a file's link: only its owner (and the bridge) are given it."""
    return _sign(key, "file", widget_id, visitor_id, file_id)


def reply_file_id(key: bytes, widget_id: str, visitor_id: str, reply: str, index: int) -> str:
    """The id under which the `index`-th file of an operator's reply is kept for the visitor.

    Derived, not random: a retried delivery keeps the file under the same id (no second copy),
    and history finds it from the stored message alone.
    """
    return _sign(key, "reply-file", widget_id, visitor_id, reply, str(index))
