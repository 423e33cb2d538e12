"""The durable, paced outbox: every outbound platform call, written with its cause, sent later.

    from bridge import outbox

    row = await outbox.enqueue(session, platform="telegram", destination=chat_id, lane=...,
                               kind="text", payload={...}, handler="relay_posted")
    await session.commit(); worker.wake()

    registry.register("relay_posted", done=relay_posted)  # at wiring time (handlers.py)

See worker.py for delivery, pacing.py/policy.py for limits, coalesce.py for merging.
"""

from __future__ import annotations

from bridge.outbox.coalesce import KIND_DASHBOARD, KIND_EDIT, KIND_TEXT
from bridge.outbox.enqueue import (
    INTERACTIVE_BELOW,
    PRIORITY_CARD_CHANGE,
    PRIORITY_DASHBOARD,
    PRIORITY_DEFAULT,
    PRIORITY_INQUIRY,
    PRIORITY_INTERACTIVE,
    PRIORITY_RELAY,
    PRIORITY_REPLY,
    enqueue,
)
from bridge.outbox.handlers import HandlerRegistry
from bridge.outbox.policy import Bucket, Limits, PacingPolicy, PlatformPacing
from bridge.outbox.senders import Sender, Senders, random_id_for
from bridge.outbox.worker import OutboxCall, OutboxWorker

__all__ = [
    "INTERACTIVE_BELOW",
    "KIND_DASHBOARD",
    "KIND_EDIT",
    "KIND_TEXT",
    "PRIORITY_CARD_CHANGE",
    "PRIORITY_DASHBOARD",
    "PRIORITY_DEFAULT",
    "PRIORITY_INQUIRY",
    "PRIORITY_INTERACTIVE",
    "PRIORITY_RELAY",
    "PRIORITY_REPLY",
    "Bucket",
    "HandlerRegistry",
    "Limits",
    "OutboxCall",
    "OutboxWorker",
    "PacingPolicy",
    "PlatformPacing",
    "Sender",
    "Senders",
    "enqueue",
    "random_id_for",
]
