"""Outbox rows as a sender receives them, for adapter sender tests (no database needed)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from adapters.common.outbound import outbound_payload
from bridge.events import Outbound
from bridge.outbox.worker import OutboxCall

_ids = itertools.count(1000)


def reply_row(platform: str, outbound: Outbound, row_id: int | None = None) -> OutboxCall:
    """The outbox row of a reply to a customer, as the worker hands it to a Sender."""
    return OutboxCall(
        id=next(_ids) if row_id is None else row_id,
        created_at=datetime(2025, 1, 1, 12, 0, tzinfo=UTC),
        platform=platform,
        destination=outbound.chat,
        lane=f"{platform}:{outbound.chat}",
        kind="reply",
        payload=outbound_payload(outbound),
        attempts=0,
    )
