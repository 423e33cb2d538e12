"""Graph API errors → bridge errors, in ONE place (Messenger Platform error codes)."""

from __future__ import annotations

from bridge.errors import (
    BridgeError,
    PermanentError,
    RecipientUnreachable,
    RetryAfter,
    TransientError,
)

#: 4 app rate limit, 17 user rate limit, 32 page rate limit, 613 calls exceeded the rate limit.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
RETRY_AFTER_SECONDS = 10.0
#: 1 unknown error, 2 service temporarily unavailable.
TRANSIENT_CODES = frozenset({1, 2})
#: 551 this person isn't available; 100/2018001 no matching user.
UNREACHABLE = frozenset({(551, None), (100, 2018001)})
#: (#10) sent outside of the allowed window.
OUTSIDE_WINDOW = (10, 2018278)
#: no profile for this user (phone-number accounts).
NO_PROFILE = (100, 2018218)


class OutsideWindow(PermanentError):
    """The message is outside the window its messaging_type allows (code 10 / 2018278)."""


def from_graph(code: int, subcode: int | None, message: str) -> BridgeError:
    """The bridge error for a Graph error envelope."""
    reason = f"Messenger error {code}" + (f"/{subcode}" if subcode else "") + f": {message}"
    if code in RATE_LIMIT_CODES:
        return RetryAfter(RETRY_AFTER_SECONDS, reason)
    if code in TRANSIENT_CODES:
        return TransientError(reason)
    if (code, subcode) == OUTSIDE_WINDOW or (code == 10 and subcode is None):
        return OutsideWindow(reason, code=code)
    if (code, subcode) in UNREACHABLE or (code, None) in UNREACHABLE:
        return RecipientUnreachable(reason, code=code)
    return PermanentError(reason, code=code if subcode is None else f"{code}/{subcode}")


def from_http(status: int, body: str) -> BridgeError:
    """A failure without a Graph error envelope."""
    if status == 429:
        return RetryAfter(RETRY_AFTER_SECONDS, "Messenger answered HTTP 429")
    if status >= 500:
        return TransientError(f"Messenger answered HTTP {status}")
    return PermanentError(f"Messenger answered HTTP {status}: {body[:200]}", code=status)
