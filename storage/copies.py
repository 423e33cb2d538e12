"""Where a relayed message landed on the customer's platform (to edit it there later).

An operator's reply becomes one or more messages in the customer's chat; their platform ids
are recorded when the send succeeds, keyed by our message id, so an operator's later edit of
the reply can edit the customer's copy — after a restart too. Stored in the key-value table
(`copies:<message id>` → JSON list), which needs no schema change.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.state import kv_get, kv_set


@dataclass(frozen=True, slots=True)
class CustomerCopy:
    """One platform message showing (part of) our message to the customer."""

    chat: str
    message_id: str
    #: "text" (edit the text) or "caption" (a media message: edit its caption) or "other".
    form: str


def _key(message_id: int) -> str:
    return f"copies:{message_id}"


async def add_customer_copy(session: AsyncSession, message_id: int, copy: CustomerCopy) -> None:
    """Record one delivered copy of message `message_id` (a repeat of the same copy is a no-op)."""
    if copy.form not in ("text", "caption", "other"):
        raise ValueError(f"unknown copy form {copy.form!r}")
    copies = await customer_copies(session, message_id)
    if copy in copies:
        return
    copies.append(copy)
    await kv_set(session, _key(message_id), json.dumps([asdict(c) for c in copies]))


async def customer_copies(session: AsyncSession, message_id: int) -> list[CustomerCopy]:
    """The delivered copies of message `message_id`, in the order they were sent."""
    raw = await kv_get(session, _key(message_id))
    if raw is None:
        return []
    return [CustomerCopy(**item) for item in json.loads(raw)]
