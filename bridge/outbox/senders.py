"""The seam between the outbox and the platforms: one `Sender` per platform string.

The worker looks a row's `platform` up in a plain mapping, so adding a platform is one line:

    senders = {"telegram": TelegramCalls(bot), "vk": VkSender(...)}

A sender executes ONE call described by the row's payload and may do network I/O. Contract:
- returns a JSON-serialisable dict describing the result (`{"message_id": ...}` where the
  platform gives one); it is stored on the row and handed to the completion handler;
- raises only `bridge.errors` (RetryAfter, TransientError, PermanentError,
  RecipientUnreachable); anything else is a bug and is treated as transient (retried, logged
  with its traceback), never as a silent loss;
- is NOT assumed idempotent: a crash between the call and the mark-done repeats the call. A
  platform that supports an idempotency key should derive it from the row (`random_id_for`);
- may be cancelled at any await: past its delivery deadline, or when its lease can no longer
  be confirmed (bridge/outbox/lease.py). It must then stop without starting further platform
  calls (work handed to a thread cannot be stopped: start no new call after it returns); the
  row is retried as the same row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Sender(Protocol):
    """Delivers one outbox row to its platform."""

    async def deliver(self, item: Any) -> dict[str, Any]:
        """Execute the call in `item.payload`; return its result; raise only bridge.errors."""
        ...


Senders = Mapping[str, Sender]


def random_id_for(item: Any) -> int:
    """A VK `random_id` fixed per outbox row: the same on every retry, distinct across rows.

    Derived from the row id (and the creation time, so two databases that restart their ids
    do not collide within one community): a positive signed 63-bit integer.
    """
    row_id = getattr(item, "id", None)
    if row_id is None:
        raise ValueError("random_id_for needs a stored outbox row (its id is None)")
    created = getattr(item, "created_at", None)
    seed = f"outbox:{row_id}:{created.isoformat() if created else ''}".encode()
    return int.from_bytes(hashlib.sha256(seed).digest()[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
