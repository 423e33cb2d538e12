"""SLA arithmetic: when a wait's clock starts, how long it has run, which wait a reminder is for.

Pure functions over the stored instants and a group's `WorkingHours` (bridge/hours.py), used by
the reminder jobs and by the dashboard's "past SLA" line, so both count the same waits.

- A card's wait for Accept starts at `Conversation.sla_from` (the opening after a message
  outside working hours) or `opened_at`, moved to the next opening when that instant fell
  outside the hours.
- A customer's wait for an answer starts at their first message the claimer has not answered
  yet (not before the accept: the claimer's clock does not run before they claimed), again
  moved to the next opening.
- Elapsed time is wall time from that start; nothing is reminded while the group is closed
  (an operator's evening is not counted against them: a card that came at 17:58 is reminded
  the next morning, once, not at 18:03).
- A wait's reminders are numbered: the n-th is due once n × `within` has passed, so a wait
  that goes on is reminded at most every `within`, and `wait_key` names it for
  `storage.helpdesk.claim_reminder` (one send per key, across processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bridge.hours import WorkingHours


@dataclass(frozen=True, slots=True)
class Due:
    """A reminder that is due: the wait's clock start, how long it has run, its number."""

    started: datetime
    waited: timedelta
    number: int

    @property
    def wait_key(self) -> str:
        """The `wait` of `claim_reminder`: the clock start and the repeat number."""
        return wait_key(self.started, self.number)


def wait_key(started: datetime, number: int) -> str:
    """`<clock start, ISO>#<n>`: the n-th reminder of the wait that started then."""
    return f"{started.isoformat()}#{number}"


def accept_clock(hours: WorkingHours, opened_at: datetime, sla_from: datetime | None) -> datetime:
    """When a card's wait for Accept started counting."""
    return hours.clock_start(sla_from or opened_at)


def answer_clock(
    hours: WorkingHours,
    first_unanswered: datetime,
    accepted_at: datetime | None,
    answered_at: datetime | None = None,
) -> datetime:
    """When a customer's wait for the claimer's answer started counting: their first message
    after the last answer, but not before the accept nor before that answer (the message's
    time is the platform's clock, whole seconds on Telegram)."""
    start = max(t for t in (first_unanswered, accepted_at, answered_at) if t is not None)
    return hours.clock_start(start)


def due(started: datetime, within: timedelta, now: datetime) -> Due | None:
    """The reminder due at `now` for a wait whose clock started at `started`; None before
    `within` has passed. `within` must be positive."""
    if within <= timedelta(0):
        raise ValueError(f"an SLA time must be positive, got {within}")
    waited = now - started
    if waited < within:
        return None
    return Due(started, waited, waited // within)


def overdue(started: datetime, within: timedelta, now: datetime) -> bool:
    """Whether a wait that started at `started` is past `within` at `now`."""
    return now - started >= within


_UNITS = {
    "en": ("{d} d", "{h} h", "{m} min", "{s} s"),
    "ru": ("{d} д", "{h} ч", "{m} мин", "{s} с"),
}


def waited_text(waited: timedelta, language: str | None) -> str:
    """A wait as operators read it: "7 min", "1 h 20 min", "2 d 3 h"; under a minute (SLA
    times in seconds, as the demo's) in seconds: "20 s"."""
    days_unit, hours_unit, minutes_unit, seconds_unit = _UNITS["ru" if language == "ru" else "en"]
    if waited.total_seconds() < 60:
        return seconds_unit.format(s=max(int(waited.total_seconds()), 1))
    minutes = int(waited.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        parts = [days_unit.format(d=days)] + ([hours_unit.format(h=hours)] if hours else [])
    elif hours:
        parts = [hours_unit.format(h=hours)] + (
            [minutes_unit.format(m=minutes)] if minutes else []
        )
    else:
        parts = [minutes_unit.format(m=minutes)]
    return " ".join(parts)
