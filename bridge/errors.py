"""The few bridge errors that platform errors are translated into at the edge.

Senders (the outbox's per-platform delivery functions) and adapters raise only these. Each one
says what to do next, so the outbox never has to know a platform's error codes.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error a platform edge raises into the core."""


class RetryAfter(BridgeError):
    """The platform asked us to wait (Telegram 429 `retry_after`, VK error 6/9/29, Viber 12).

    The outbox waits at least `seconds` before the next call to that destination and slows it down.
    """

    def __init__(self, seconds: float, description: str = "") -> None:
        super().__init__(description or f"retry after {seconds}s")
        self.seconds = float(seconds)
        self.description = description


class TransientError(BridgeError):
    """A fault that may pass: 5xx, a timeout, a refused connection; retried forever."""


class PermanentError(BridgeError):
    """The call can never succeed as it is: blocked by the user, chat not found, bad request.

    `reason` is the platform's own words, stored on the message and shown to the operator.
    """

    def __init__(self, reason: str, *, code: str | int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class RecipientUnreachable(PermanentError):
    """The customer can no longer be reached (blocked the bot, unsubscribed, denied messages)."""


class PlaceGone(PermanentError):
    """The conversation's place in the operators' group no longer exists (a deleted topic).

    The desk makes a new place and carries on (desk/completions.py).
    """


class PlaceClosed(PermanentError):
    """The conversation's place exists but is closed (a forum topic closed by hand).

    The desk reopens it and posts again (desk/completions.py).
    """
