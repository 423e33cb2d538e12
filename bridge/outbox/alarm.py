"""The outbox alarm: deliveries that keep failing transiently (5xx, timeouts) past a threshold.

The worker retries such a row forever with backoff; nobody would notice a platform that has
been answering 502 for an hour. So each row's first transient failure starts its clock
(`AlarmTracker.failed`); once a row has kept failing for `after_seconds`
(`outbox.alarm_after_seconds`), its destination is *stuck*: the log says so (ERROR, "outbox
ALARM"), the gauge `outbox_transient_alarm` counts the row, and an `AlarmListener` (the desk)
tells the operators — once per destination, however many of its rows are stuck. When the
destination's stuck rows have all been delivered it is *recovered*: said once, in the same
place. A stuck row that fails for good (a permanent error) is dropped from the alarm quietly:
its failure handlers tell what happened to it.

The tracker is plain state of one worker (no I/O); the worker calls the listener in a
transaction of its own and commits what it enqueued. Several processes sharing PostgreSQL each
keep their own: a destination stuck in two of them is told by each, once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bridge.outbox import metrics

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession


@dataclass(frozen=True, slots=True)
class StuckDestination:
    """A destination whose deliveries keep failing: what the listener is told."""

    platform: str
    destination: str
    #: The row that raised the alarm, and its conversation (None: a row of no conversation).
    row_id: int
    conversation_id: int | None
    #: Epoch seconds of that row's first transient failure, and its latest error.
    since: float
    error: str


class AlarmListener(Protocol):
    """Who tells the operators (desk.alarm.DeskAlarm); called in a transaction it may use."""

    async def stuck(self, session: AsyncSession, alarm: StuckDestination, now: float) -> None:
        """Deliveries to `alarm.destination` have failed since `alarm.since`; still retried."""

    async def recovered(self, session: AsyncSession, alarm: StuckDestination, now: float) -> None:
        """The destination's stuck rows have been delivered."""


@dataclass(slots=True)
class _Row:
    since: float
    destination: tuple[str, str]
    conversation_id: int | None
    alarmed: bool = False


@dataclass(slots=True)
class AlarmTracker:
    """Which rows fail transiently since when, and which destinations are stuck."""

    after_seconds: float
    _rows: dict[int, _Row] = field(default_factory=dict)
    _stuck: dict[tuple[str, str], StuckDestination] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.after_seconds <= 0:
            raise ValueError(f"after_seconds must be positive, got {self.after_seconds}")

    @property
    def alarmed_rows(self) -> int:
        """Rows past the threshold, still retried."""
        return sum(1 for row in self._rows.values() if row.alarmed)

    def failing_for(self, row_id: int, now: float) -> float:
        """Seconds since the row's first transient failure (0 when it has not failed)."""
        row = self._rows.get(row_id)
        return now - row.since if row is not None else 0.0

    def failed(
        self,
        row_id: int,
        platform: str,
        destination: str,
        conversation_id: int | None,
        error: str,
        now: float,
    ) -> tuple[bool, StuckDestination | None]:
        """A transient failure of `row_id`. Returns (the row is past the threshold, the alarm
        to tell when this makes its destination stuck — None when already told)."""
        key = (platform, destination)
        row = self._rows.setdefault(row_id, _Row(now, key, conversation_id))
        if now - row.since < self.after_seconds:
            return False, None
        if not row.alarmed:
            row.alarmed = True
            metrics.ALARMED.inc()
        if key in self._stuck:
            return True, None
        alarm = StuckDestination(platform, destination, row_id, conversation_id, row.since, error)
        self._stuck[key] = alarm
        return True, alarm

    def delivered(self, row_id: int) -> StuckDestination | None:
        """The row went out. Returns the alarm to call off when its destination has no stuck
        row left."""
        return self._forget(row_id)

    def gave_up(self, row_id: int) -> None:
        """The row failed for good: it no longer holds its destination's alarm."""
        self._forget(row_id)

    def close(self) -> None:
        """The worker stops: its rows leave the gauge (another worker may take them up)."""
        metrics.ALARMED.dec(self.alarmed_rows)
        self._rows.clear()
        self._stuck.clear()

    def _forget(self, row_id: int) -> StuckDestination | None:
        row = self._rows.pop(row_id, None)
        if row is None or not row.alarmed:
            return None
        metrics.ALARMED.dec()
        if any(r.alarmed and r.destination == row.destination for r in self._rows.values()):
            return None
        return self._stuck.pop(row.destination, None)
