"""Signed visitor tokens: `<visitor id>.<issued>.<signature>`, HMAC-SHA256 with the signing key.

The signature covers the widget id, the visitor id and the time the token was issued (Unix
seconds), so a token opens that visitor's conversation on that widget only, and only for
`TOKEN_LIFETIME` after it was issued. The server mints visitor ids (random, 128 bits); a
visitor cannot pick someone else's id without the key. File links are signed the same way.

Renewal is silent: a token older than `RENEW_AFTER` is still accepted, and the answer carries
a fresh token for the same visitor in the `TOKEN_HEADER` header (the WebSocket: in its `auth`
answer), which the widget stores. So a visitor who comes back at least once a month keeps
their conversation; one away longer gets 403 "expired" and the widget starts a new one.
The lifetime is checked against the issue time when the token is used, so shortening
`TOKEN_LIFETIME` applies to tokens already handed out. Tokens are not stored anywhere:
a renewed token's predecessor stays valid until its own expiry.

Legacy tokens (`<visitor id>.<signature>`, before tokens expired) carry no time. They are
accepted and renewed on their first use, so no visitor loses a conversation on upgrade; a
legacy token that is never used again is never renewed. Set `ACCEPT_LEGACY` to False in a
release after this one has run for `TOKEN_LIFETIME`: by then every visitor who came back
holds a dated token, and the rest would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum

from bridge.web.untrusted import same_secret

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
_ISSUED = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE_CHARS = 32
_MAX_TOKEN = 100

#: How long a token opens its conversation after it was issued (30 days).
TOKEN_LIFETIME = 30 * 24 * 3600
#: A token older than this is answered with a fresh one (1 day): active visitors never expire.
RENEW_AFTER = 24 * 3600
#: A token issued this far in the future is still good (servers' clocks differ a little).
CLOCK_SKEW = 5 * 60
#: Whether `<visitor>.<signature>` tokens of earlier releases are accepted (and renewed).
ACCEPT_LEGACY = True
#: The response header that carries a renewed token (exposed to the widget's origin by CORS).
TOKEN_HEADER = "X-Visitor-Token"


class TokenState(StrEnum):
    VALID = "valid"
    #: Accepted, and the answer should carry a fresh token (old, or the legacy format).
    RENEW = "renew"
    EXPIRED = "expired"
    INVALID = "invalid"


#: What a refused token's 403 (or WebSocket close) says.
REFUSALS = {
    TokenState.EXPIRED: "this visitor token has expired, start a new conversation",
    TokenState.INVALID: "this visitor token is not valid",
}


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The verdict on a token: its state, and the visitor it names when it is accepted."""

    state: TokenState
    visitor: str | None = None

    @property
    def accepted(self) -> bool:
        return self.state in (TokenState.VALID, TokenState.RENEW)

    @property
    def refusal(self) -> str:
        return REFUSALS.get(self.state, "")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _sign(key: bytes, purpose: str, *parts: str) -> str:
    message = "\x1f".join((purpose, *parts)).encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())[:_SIGNATURE_CHARS]


def new_visitor_id() -> str:
    """A fresh random visitor id (22 URL-safe characters)."""
    return _b64(secrets.token_bytes(16))


def issue_token(
    key: bytes, widget_id: str, visitor_id: str, *, issued: float | None = None
) -> str:
    """The token that proves `visitor_id` on `widget_id`, issued now (or at `issued`)."""
    if not VISITOR_ID.match(visitor_id):
        raise ValueError(f"not a visitor id: {visitor_id!r}")
    at = str(int(time.time() if issued is None else issued))
    return f"{visitor_id}.{at}.{_sign(key, 'visitor-token', widget_id, visitor_id, at)}"


def legacy_token(key: bytes, widget_id: str, visitor_id: str) -> str:
    """A token as releases before expiry minted them (for tests of the upgrade)."""
    return f"{visitor_id}.{_sign(key, 'visitor', widget_id, visitor_id)}"


def check_token(
    key: bytes, widget_id: str, token: str | None, *, now: float | None = None
) -> TokenCheck:
    """Whether `token` opens a conversation on `widget_id` now, and whose. Pure; never raises."""
    invalid = TokenCheck(TokenState.INVALID)
    if not token or len(token) > _MAX_TOKEN:
        return invalid
    parts = token.split(".")
    visitor_id, signature = parts[0], parts[-1]
    if not VISITOR_ID.match(visitor_id) or len(signature) != _SIGNATURE_CHARS:
        return invalid
    if len(parts) == 2:
        expected = _sign(key, "visitor", widget_id, visitor_id)
        if ACCEPT_LEGACY and same_secret(signature, expected):
            return TokenCheck(TokenState.RENEW, visitor_id)
        return invalid
    if len(parts) != 3 or not _ISSUED.match(parts[1]):
        return invalid
    expected = _sign(key, "visitor-token", widget_id, visitor_id, parts[1])
    if not same_secret(signature, expected):
        return invalid
    age = (time.time() if now is None else now) - int(parts[1])
    if age < -CLOCK_SKEW:
        return invalid
    if age >= TOKEN_LIFETIME:
        return TokenCheck(TokenState.EXPIRED, visitor_id)
    return TokenCheck(TokenState.RENEW if age >= RENEW_AFTER else TokenState.VALID, visitor_id)


def verify_token(key: bytes, widget_id: str, token: str | None) -> str | None:
    """The visitor id an accepted token names; None for a missing, forged or expired one."""
    checked = check_token(key, widget_id, token)
    return checked.visitor if checked.accepted else None


def file_signature(key: bytes, widget_id: str, visitor_id: str, file_id: str) -> str:
    """The unguessable part of a file's link: only its owner (and the bridge) are given it."""
    return _sign(key, "file", widget_id, visitor_id, file_id)


def reply_file_id(key: bytes, widget_id: str, visitor_id: str, reply: str, index: int) -> str:
    """The id under which the `index`-th file of an operator's reply is kept for the visitor.

    Derived, not random: a retried delivery keeps the file under the same id (no second copy),
    and history finds it from the stored message alone.
    """
    return _sign(key, "reply-file", widget_id, visitor_id, reply, str(index))
