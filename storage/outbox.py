"""The outbox queries: enqueue, lease, complete, retry, fail, supersede, and pacing state.

Every function takes the caller's session and never commits: the caller owns the transaction
(an enqueue commits with the event that caused it; the worker commits each step on its own).

Leasing: a row is eligible when it is the head of its lane (no earlier row of the lane is
pending or leased) and either pending and due, or leased with an expired lease (its process
died). On PostgreSQL candidate rows are locked `FOR UPDATE SKIP LOCKED`, so several processes
lease disjoint rows and never two rows of one lane; on SQLite (one process) every transaction
already holds the write lock (`BEGIN IMMEDIATE`, see storage/db.py).

Fencing: every lease gives the row a new `lease_token` (the previous one plus one). The worker
keeps the tokens of the rows it holds (`Held`: row id → token), and everything it does with
them afterwards — extend the lease, mark done or failed, release — changes only the rows that
still carry its owner AND its token. A worker whose lease expired and was taken over (even by
itself, later) can therefore never record an outcome over the new holder's
(bridge/outbox/lease.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import dialect_name
from storage.models import OutboxItem, OutboxState, Pacing
from storage.timeutil import utcnow

_OPEN = (OutboxState.PENDING.value, OutboxState.LEASED.value)
#: `session.info` key set once a session added an outbox row.
ENQUEUED = "outbox_enqueued"
#: The rows a worker holds: row id → the fencing token of its lease.
Held = Mapping[int, int]


async def insert_item(
    session: AsyncSession, item: OutboxItem, *, supersede_pending: bool = False
) -> OutboxItem:
    """Add `item`; with `supersede_pending`, older pending rows of the same lane, kind and
    coalesce_key are marked superseded first (only the newest state is ever sent), and the
    new row keeps the most urgent priority among them (a digest's routine edit never delays
    the operator's accept it now carries)."""
    if supersede_pending and item.coalesce_key is not None:
        same = (
            col(OutboxItem.lane) == item.lane,
            col(OutboxItem.kind) == item.kind,
            col(OutboxItem.coalesce_key) == item.coalesce_key,
            col(OutboxItem.state) == OutboxState.PENDING.value,
        )
        urgent = (await session.exec(select(func.min(OutboxItem.priority)).where(*same))).one()
        if urgent is not None and urgent < item.priority:
            item.priority = urgent
        await session.exec(
            update(OutboxItem)
            .where(*same)
            .values(state=OutboxState.SUPERSEDED.value, done_at=utcnow())
        )
    session.add(item)
    await session.flush()
    session.info[ENQUEUED] = True
    return item


def enqueued_in(session: AsyncSession) -> bool:
    """Whether `insert_item` added a row in this session (the worker has something to look at)."""
    return bool(session.info.get(ENQUEUED))


async def lease_heads(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    busy_destinations: Iterable[str] = (),
    interactive_below: int | None = None,
    busy_interactive: Iterable[str] = (),
) -> list[OutboxItem]:
    """Lease up to `limit` lane heads that are due, at most one per destination.

    Ordered by priority (lower first), then id. Destinations in `busy_destinations` (an
    ordinary row in flight in this process) are skipped.

    With `interactive_below`, rows of a lower priority are interactive (what an operator waits
    for right after pressing Accept) and a destination has two heads: its first interactive
    row and its first ordinary one, so an Accept never waits behind an ordinary row that is
    sleeping towards its pacing slot. `busy_interactive`: destinations whose interactive head
    is in flight here.
    """
    if limit <= 0:
        return []
    row = aliased(OutboxItem, name="o")
    earlier = aliased(OutboxItem, name="e")
    blocked = exists().where(
        col(earlier.lane) == row.lane,
        col(earlier.id) < col(row.id),
        col(earlier.state).in_(_OPEN),
    )
    due = or_(
        and_(col(row.state) == OutboxState.PENDING.value, col(row.not_before) <= now),
        and_(col(row.state) == OutboxState.LEASED.value, col(row.lease_until) < now),
    )
    # Candidates are chosen by their id, destination and priority only: the rows' payloads (a
    # card's avatar PNG is ~30 kB) are loaded for the chosen ones, not for every candidate.
    stmt = select(row.id, row.destination, row.priority).where(due, ~blocked)
    busy = set(busy_destinations)
    busy_fast = set(busy_interactive) if interactive_below is not None else set()
    if interactive_below is None:
        if busy:
            stmt = stmt.where(col(row.destination).not_in(busy))
    else:
        both = busy & busy_fast
        if both:
            stmt = stmt.where(col(row.destination).not_in(both))
        if busy - busy_fast:
            stmt = stmt.where(
                or_(
                    col(row.destination).not_in(busy - busy_fast),
                    col(row.priority) < interactive_below,
                )
            )
        if busy_fast - busy:
            stmt = stmt.where(
                or_(
                    col(row.destination).not_in(busy_fast - busy),
                    col(row.priority) >= interactive_below,
                )
            )
    stmt = stmt.order_by(col(row.priority), col(row.id)).limit(limit * 4)
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=row)
    candidates = (await session.exec(stmt)).all()
    ids: list[int | None] = []  # (the column is Optional on the model; never None here)
    seen: set[tuple[str, bool]] = set()
    for item_id, destination, priority in candidates:
        fast = interactive_below is not None and priority < interactive_below
        if (destination, fast) in seen:
            continue
        seen.add((destination, fast))
        ids.append(item_id)
        if len(ids) >= limit:
            break
    if not ids:
        return []
    loaded = await session.exec(select(OutboxItem).where(col(OutboxItem.id).in_(ids)))
    by_id = {item.id: item for item in loaded.all()}
    chosen = [by_id[item_id] for item_id in ids]
    for item in chosen:
        item.state = OutboxState.LEASED.value
        item.lease_owner = owner
        item.lease_until = lease_until
        item.lease_token += 1
        session.add(item)
    await session.flush()
    return chosen


async def lease_followers(
    session: AsyncSession,
    head_id: int,
    lane: str,
    *,
    owner: str,
    lease_until: datetime,
    limit: int,
    accept: Any,
) -> list[OutboxItem]:
    """Lease the pending rows right after `head_id` in `lane` for as long as `accept(rows)`
    says how many of them to take (a prefix, in id order). Returns the leased rows."""
    stmt = (
        select(OutboxItem)
        .where(
            col(OutboxItem.lane) == lane,
            col(OutboxItem.id) > head_id,
            col(OutboxItem.state).in_(_OPEN),
        )
        .order_by(col(OutboxItem.id))
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update()
    rows = list((await session.exec(stmt)).all())
    # A leased row here would be a follower another process holds: stop before it.
    pending: list[OutboxItem] = []
    for row in rows:
        if row.state != OutboxState.PENDING.value:
            break
        pending.append(row)
    take = accept(pending)
    chosen = pending[:take]
    for row in chosen:
        row.state = OutboxState.LEASED.value
        row.lease_owner = owner
        row.lease_until = lease_until
        row.lease_token += 1
        session.add(row)
    await session.flush()
    return chosen


async def extend_lease(
    session: AsyncSession, held: Held, *, owner: str, lease_until: datetime
) -> set[int]:
    """Push the lease of the rows this owner still holds with these tokens to `lease_until`.

    Returns the ids extended: a row missing from it is no longer this lease's (finished, or
    taken over by another worker after its lease expired)."""
    if not held:
        return set()
    if dialect_name(session) == "postgresql":  # lock in id order, as recording does: no deadlock
        await session.exec(
            select(col(OutboxItem.id))
            .where(_held(held, owner))
            .order_by(col(OutboxItem.id))
            .with_for_update()
        )
    result = await session.exec(
        update(OutboxItem)
        .where(_held(held, owner))
        .values(lease_until=lease_until)
        .returning(col(OutboxItem.id))
        .execution_options(synchronize_session=False)
    )
    return {int(row_id) for (row_id,) in result.all()}


async def mark_done(
    session: AsyncSession,
    held: Held,
    *,
    owner: str,
    result: dict[str, Any],
    now: datetime,
    note: str | None = None,
) -> list[OutboxItem]:
    """Mark rows this owner holds (with these tokens) as done with `result`; returns the rows
    changed, by id."""
    return await _finish(
        session, held, owner, OutboxState.DONE, now, result=result, last_error=note
    )


async def mark_failed(
    session: AsyncSession, held: Held, *, owner: str, reason: str, now: datetime
) -> list[OutboxItem]:
    """Mark rows this owner holds (with these tokens) as failed for good with `reason`."""
    return await _finish(session, held, owner, OutboxState.FAILED, now, last_error=reason)


async def release(
    session: AsyncSession,
    held: Held,
    *,
    owner: str,
    not_before: datetime | None = None,
    error: str | None = None,
    count_attempt_of: int | None = None,
) -> list[OutboxItem]:
    """Put rows this owner holds (with these tokens) back to pending (due at `not_before`).

    `count_attempt_of` names the one row whose `attempts` grows (the head of a failed call).
    Returns the rows changed.
    """
    rows = await _held_rows(session, held, owner)
    for row in rows:
        row.state = OutboxState.PENDING.value
        row.lease_owner = None
        row.lease_until = None
        if not_before is not None:
            row.not_before = not_before
        if error is not None:
            row.last_error = error
        if row.id == count_attempt_of:
            row.attempts += 1
        session.add(row)
    await session.flush()
    return rows


async def release_all_leases(session: AsyncSession) -> int:
    """Return every leased row to pending (single-process SQLite start-up after a crash)."""
    result = await session.exec(
        update(OutboxItem)
        .where(col(OutboxItem.state) == OutboxState.LEASED.value)
        .values(state=OutboxState.PENDING.value, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


async def queue_stats(session: AsyncSession, now: datetime) -> tuple[int, float]:
    """(rows pending or leased, age in seconds of the oldest pending-or-leased row)."""
    row = (
        await session.exec(
            select(func.count(col(OutboxItem.id)), func.min(OutboxItem.created_at)).where(
                col(OutboxItem.state).in_(_OPEN)
            )
        )
    ).one()
    count, oldest = row
    if oldest is None:
        return int(count or 0), 0.0
    if isinstance(oldest, str):  # func.min bypasses the column type on SQLite
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return int(count), max(0.0, (now - oldest).total_seconds())


async def count_by_state(session: AsyncSession) -> dict[str, int]:
    """How many rows are in each state."""
    rows = await session.exec(
        select(OutboxItem.state, func.count(col(OutboxItem.id))).group_by(col(OutboxItem.state))
    )
    return {state: int(n) for state, n in rows.all()}


async def lock_pacing(session: AsyncSession, keys: Sequence[str]) -> dict[str, Pacing]:
    """The pacing rows of `keys`, created when missing and locked until the transaction ends.

    Locked in key order, so two processes reserving overlapping buckets never deadlock.
    """
    ordered = sorted(set(keys))
    if not ordered:
        return {}
    epoch = utcnow() - timedelta(days=1)
    values = [{"destination": k, "next_at": epoch, "updated_at": epoch} for k in ordered]
    if dialect_name(session) == "postgresql":
        await session.exec(pg_insert(Pacing).values(values).on_conflict_do_nothing())
        stmt = (
            select(Pacing)
            .where(col(Pacing.destination).in_(ordered))
            .order_by(col(Pacing.destination))
            .with_for_update()
        )
    else:
        await session.exec(sqlite_insert(Pacing).values(values).on_conflict_do_nothing())
        stmt = select(Pacing).where(col(Pacing.destination).in_(ordered))
    rows = (await session.exec(stmt.execution_options(populate_existing=True))).all()
    return {row.destination: row for row in rows}


async def store_pacing(session: AsyncSession, rows: Iterable[Pacing]) -> None:
    """Write back pacing rows changed by the caller (locked by `lock_pacing`)."""
    now = utcnow()
    for row in rows:
        row.updated_at = now
        session.add(row)
    await session.flush()


def _held(held: Held, owner: str) -> Any:
    return and_(
        tuple_(col(OutboxItem.id), col(OutboxItem.lease_token)).in_(list(held.items())),
        col(OutboxItem.state) == OutboxState.LEASED.value,
        col(OutboxItem.lease_owner) == owner,
    )


async def _held_rows(session: AsyncSession, held: Held, owner: str) -> list[OutboxItem]:
    if not held:
        return []
    stmt = select(OutboxItem).where(_held(held, owner)).order_by(col(OutboxItem.id))
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update()
    return list((await session.exec(stmt.execution_options(populate_existing=True))).all())


async def _finish(
    session: AsyncSession,
    held: Held,
    owner: str,
    state: OutboxState,
    now: datetime,
    *,
    result: dict[str, Any] | None = None,
    last_error: str | None = None,
) -> list[OutboxItem]:
    rows = await _held_rows(session, held, owner)
    for row in rows:
        row.state = state.value
        row.lease_owner = None
        row.lease_until = None
        row.done_at = now
        if result is not None:
            row.result = result
        if last_error is not None:
            row.last_error = last_error
        session.add(row)
    await session.flush()
    return rows
