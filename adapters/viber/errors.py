"""Viber's `status` codes → bridge errors, in ONE place (Viber REST Bot API, "Error Codes")."""

from __future__ import annotations

from bridge.errors import (
    BridgeError,
    PermanentError,
    RecipientUnreachable,
    RetryAfter,
    TransientError,
)

#: 5 receiver not registered, 6 not subscribed, 11 no suitable device.
UNREACHABLE = frozenset({5, 6, 11})
#: 12 too many requests (also: 100 messages an hour to a user who has not replied).
TOO_MANY_REQUESTS = 12
RETRY_AFTER_SECONDS = 60.0


def from_status(status: int, message: str) -> BridgeError:
    """The bridge error for a non-zero Viber `status` with its `status_message`."""
    reason = f"Viber status {status}: {message}"
    if status == TOO_MANY_REQUESTS:
        return RetryAfter(RETRY_AFTER_SECONDS, reason)
    if status in UNREACHABLE:
        return RecipientUnreachable(reason, code=status)
    return PermanentError(reason, code=status)


def from_http(status: int) -> BridgeError:
    """An HTTP-level failure (Viber reports API errors with HTTP 200)."""
    if status == 429:
        return RetryAfter(RETRY_AFTER_SECONDS, "Viber answered HTTP 429")
    if status >= 500:
        return TransientError(f"Viber answered HTTP {status}")
    return PermanentError(f"Viber answered HTTP {status}", code=status)
