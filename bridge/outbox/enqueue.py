"""Enqueue: write an outbound call into the caller's transaction (never commits).

The caller commits together with the event that caused the call, then calls the worker's
`wake()` so the row goes out without waiting for the next poll.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bridge.outbox.coalesce import REPLACING_KINDS
from storage.models import OutboxItem
from storage.outbox import insert_item

# Lower goes sooner (across lanes; within a lane id order always wins).
#: What an operator waits for right after pressing Accept: the topic and its history. Rows
#: below `INTERACTIVE_BELOW` are interactive: a destination has a head of their own and they
#: may use the reserve of a group's window (bridge/outbox/pacing.py).
PRIORITY_INTERACTIVE = 5
INTERACTIVE_BELOW = PRIORITY_INTERACTIVE + 1
PRIORITY_REPLY = 10  # an operator's answer to a customer
#: A card's new state after an operator's action (accepted, transferred, closed): before the
#: storm's new cards, so nobody else presses an Accept that is already taken.
PRIORITY_CARD_CHANGE = 15
PRIORITY_INQUIRY = 20  # a new inquiry's card
PRIORITY_RELAY = 50  # a customer's message relayed into the operators' group
PRIORITY_DEFAULT = 100
PRIORITY_DASHBOARD = 200  # the pinned counters: always the newest, never urgent


async def enqueue(
    session: AsyncSession,
    *,
    platform: str,
    destination: str | int,
    lane: str,
    kind: str,
    payload: dict[str, Any],
    priority: int = PRIORITY_DEFAULT,
    coalesce_key: str | None = None,
    handler: str | None = None,
    conversation_id: int | None = None,
    message_id: int | None = None,
) -> OutboxItem:
    """Add one outbound call to the outbox within the caller's transaction; returns the row.

    `destination` is the pacing key (a chat id); `lane` the ordering key (rows of one lane go
    strictly in id order, e.g. "telegram:-100123:topic:77"); `kind` picks coalescing
    (see coalesce.py); `handler` names the row's registered handlers (handlers.py). For `edit` and
    `dashboard` kinds with a `coalesce_key`, older pending rows of the same lane and key are
    superseded by this one.
    """
    _require_text("platform", platform)
    _require_text("lane", lane)
    _require_text("kind", kind)
    destination = str(destination)
    _require_text("destination", destination)
    if not isinstance(payload, dict):
        raise TypeError(f"payload must be a dict, got {type(payload).__name__}")
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise TypeError(f"priority must be an int, got {priority!r}")
    item = OutboxItem(
        platform=platform,
        destination=destination,
        lane=lane,
        kind=kind,
        payload=payload,
        priority=priority,
        coalesce_key=coalesce_key,
        handler=str(handler) if handler is not None else None,  # a name constant may be an enum
        conversation_id=conversation_id,
        message_id=message_id,
    )
    return await insert_item(session, item, supersede_pending=kind in REPLACING_KINDS)


def _require_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
