"""Queries of the Incoming feed's storm digest (desk/feed.py) and its stored state.

A group's digest state is one `feed_states` row (the next digest number) and one
`feed_digests` row per digest still shown. The state row is read locked (PostgreSQL:
`FOR UPDATE`; SQLite transactions are already exclusive), so two processes that add inquiries
at the same moment never lose one another's entries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert
from sqlmodel import col, select, update

from storage.dialect import upsert_insert
from storage.models import (
    Conversation,
    ConversationState,
    FeedDigestRow,
    FeedStateRow,
    OutboxItem,
    OutboxState,
)
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass
class Digest:
    """One digest message: its inquiries, and its Telegram message once posted."""

    n: int
    ids: list[int] = field(default_factory=list)
    message_id: int | None = None
    posting: bool = False
    #: Each inquiry's line (HTML), and the Accept label of those still waiting: rendering a
    #: digest reads nothing from the database, so a storm costs one small row per inquiry.
    lines: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    version: int = 0


@dataclass
class FeedState:
    """Every digest of one group that still has something to show."""

    next: int = 1
    digests: list[Digest] = field(default_factory=list)

    def holding(self, conversation_id: int) -> Digest | None:
        return next((d for d in self.digests if conversation_id in d.ids), None)

    def all_ids(self) -> set[int]:
        return {i for d in self.digests for i in d.ids}


async def lock_feed(session: AsyncSession, group: str) -> FeedState:
    """The group's digest state, its row locked until the transaction ends (created if absent)."""
    row = await session.get(FeedStateRow, group, with_for_update=True, populate_existing=True)
    if row is None:
        await session.exec(
            upsert_insert(session, FeedStateRow)
            .values(group=group, next_digest=1, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["group"])
        )
        row = await session.get(FeedStateRow, group, with_for_update=True, populate_existing=True)
        assert row is not None
    digests = await session.exec(
        select(FeedDigestRow)
        .where(FeedDigestRow.group == group)
        .order_by(col(FeedDigestRow.n))
        .execution_options(populate_existing=True)
    )
    return FeedState(next=row.next_digest, digests=[_digest(d) for d in digests.all()])


async def save_feed(session: AsyncSession, group: str, state: FeedState) -> None:
    """Store the group's digest state (in the caller's transaction, after `lock_feed`)."""
    await session.exec(
        update(FeedStateRow)
        .where(col(FeedStateRow.group) == group)
        .values(next_digest=state.next, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    await session.exec(delete(_DIGESTS).where(_DIGESTS.c.group == group))
    if state.digests:
        await session.exec(
            insert(_DIGESTS),
            params=[
                {
                    "group": group,
                    "n": digest.n,
                    "message_id": digest.message_id,
                    "posting": digest.posting,
                    "version": digest.version,
                    "entries": [
                        {
                            "id": i,
                            "line": digest.lines.get(str(i)),
                            "label": digest.labels.get(str(i)),
                        }
                        for i in digest.ids
                    ],
                }
                for digest in state.digests
            ],
        )


#: The table itself: its rows are replaced with Core statements, not tracked ORM objects.
_DIGESTS = FeedDigestRow.__table__  # type: ignore[attr-defined]


def _digest(row: FeedDigestRow) -> Digest:
    entries = row.entries or []
    return Digest(
        n=row.n,
        ids=[int(e["id"]) for e in entries],
        message_id=row.message_id,
        posting=row.posting,
        lines={str(e["id"]): e["line"] for e in entries if e.get("line") is not None},
        labels={str(e["id"]): e["label"] for e in entries if e.get("label") is not None},
        version=row.version,
    )


async def inquiries_without_card(session: AsyncSession, group: str, limit: int) -> list[int]:
    """Ids of the group's new conversations whose card is not posted yet, oldest first."""
    statement = (
        select(Conversation.id)
        .where(
            Conversation.group == group,
            Conversation.state == ConversationState.NEW.value,
            col(Conversation.card_message_id).is_(None),
        )
        .order_by(col(Conversation.id))
        .limit(limit)
    )
    return [int(i) for i in (await session.exec(statement)).all() if i is not None]


async def withdraw_queued_cards(
    session: AsyncSession, conversation_ids: list[int], *, kind: str = "card"
) -> list[int]:
    """Supersede the still-pending card rows of these conversations (a leased one is already
    on its way and stays); returns the ids of the conversations whose card was withdrawn."""
    if not conversation_ids:
        return []
    pending = (
        col(OutboxItem.kind) == kind,
        col(OutboxItem.conversation_id).in_(conversation_ids),
        col(OutboxItem.state) == OutboxState.PENDING.value,
    )
    found = await session.exec(select(OutboxItem.conversation_id).where(*pending))
    ids = sorted({int(i) for i in found.all() if i is not None})
    if ids:
        await session.exec(
            update(OutboxItem)
            .where(*pending)
            .values(state=OutboxState.SUPERSEDED.value, done_at=utcnow())
        )
    return ids
