"""VK's errors → bridge errors, in ONE place (codes from VK's errors.json,
github.com/VKCOM/vk-api-schema).

Every call the VK adapter makes (vk_api in a thread, uploads, long poll) passes its exceptions
through `translate`, so the outbox and the poller only ever see `bridge.errors`.
"""

from __future__ import annotations

import requests
import vk_api

from bridge.errors import (
    BridgeError,
    PermanentError,
    RecipientUnreachable,
    RetryAfter,
    TransientError,
)

#: api_error_too_many (6), api_error_flood (9), api_error_rate_limit (29): how long to wait.
RETRY_AFTER_SECONDS = {6: 1.0, 9: 10.0, 29: 60.0}
#: 1 unknown error, 10 internal server error: may pass on a retry.
TRANSIENT_CODES = frozenset({1, 10})
#: 900 blacklisted the community, 901 no permission (denied messages), 902 privacy settings,
#: 18 the user was deleted or banned: the customer cannot be written to.
UNREACHABLE_CODES = frozenset({18, 900, 901, 902})


def from_code(code: int, message: str) -> BridgeError:
    """The bridge error for VK error `code` with VK's own `message`."""
    reason = f"VK error {code}: {message}"
    if code in RETRY_AFTER_SECONDS:
        return RetryAfter(RETRY_AFTER_SECONDS[code], reason)
    if code in TRANSIENT_CODES:
        return TransientError(reason)
    if code in UNREACHABLE_CODES:
        return RecipientUnreachable(reason, code=code)
    return PermanentError(reason, code=code)


def translate(exc: BaseException) -> BridgeError:
    """Any exception raised while talking to VK, as a bridge error."""
    if isinstance(exc, BridgeError):
        return exc
    if isinstance(exc, vk_api.exceptions.ApiError):
        return from_code(int(exc.code), str(exc.error.get("error_msg", "")))
    if isinstance(exc, vk_api.exceptions.ApiHttpError):
        status = exc.response.status_code
        if status == 429:
            return RetryAfter(1.0, "VK answered HTTP 429")
        if status >= 500:
            return TransientError(f"VK answered HTTP {status}")
        return PermanentError(f"VK answered HTTP {status}", code=status)
    if isinstance(exc, vk_api.exceptions.Captcha):
        return RetryAfter(60.0, "VK asks for a captcha (too many actions); waiting")
    if isinstance(exc, vk_api.exceptions.VkApiError):
        return PermanentError(f"VK refused: {exc}")
    if isinstance(exc, requests.RequestException | TimeoutError | ConnectionError):
        return TransientError(f"VK unreachable: {type(exc).__name__}: {exc}")
    if isinstance(exc, ValueError):  # a body that is not JSON (a proxy's error page…)
        return TransientError(f"VK answered something that is not JSON: {exc}")
    return TransientError(f"unexpected error talking to VK: {type(exc).__name__}: {exc}")
