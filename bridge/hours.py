"""Working hours: is a group open at an instant, and when does it open next.

A group's `hours` (config/helpdesk.py `HoursConfig`) are local times in its IANA zone: each
weekday's ranges, minus the holidays. The arithmetic happens in that zone day by day and the
results are aware UTC instants, so a DST change moves the opening instant with the clock on
the wall (09:00 stays 09:00 local), and a 23- or 25-hour day has the hours it should.
Ranges that touch across midnight (`fri: 22:00-24:00`, `sat: 00:00-02:00`) are one stretch:
the group does not "open" again at midnight.

No group `hours` (None) means always open: `WorkingHours.always()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.helpdesk import HoursConfig

#: How far ahead (and back) to look for an opening: a year and a week covers any schedule
#: with at least one open day that is not a holiday every year.
HORIZON_DAYS = 372
#: Where `last_closing` looks first: a schedule closes at least weekly, or rarely matters.
RECENT_DAYS = 8

_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("пн", "вт", "ср", "чт", "пт", "сб", "вс"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "ru": ("янв", "фев", "мар", "апр", "мая", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"),
}


@dataclass(frozen=True, slots=True)
class Stretch:
    """One open stretch, [opens, closes), in UTC."""

    opens: datetime
    closes: datetime


class WorkingHours:
    """A group's schedule. `hours=None`: always open."""

    def __init__(self, hours: HoursConfig | None) -> None:
        self.hours = hours
        self.zone = ZoneInfo(hours.timezone) if hours is not None else UTC
        self._holidays = frozenset(hours.holidays) if hours is not None else frozenset()

    @classmethod
    def always(cls) -> WorkingHours:
        return cls(None)

    @property
    def always_open(self) -> bool:
        return self.hours is None

    # ---- the schedule --------------------------------------------------------------------

    def _day(self, day: date) -> list[Stretch]:
        assert self.hours is not None
        if day in self._holidays:
            return []
        stretches = []
        for start, end in self.hours.week[day.weekday()]:
            opens = datetime.combine(day, time(start // 60, start % 60), self.zone)
            if end == 24 * 60:
                closes = datetime.combine(day + timedelta(days=1), time(0), self.zone)
            else:
                closes = datetime.combine(day, time(end // 60, end % 60), self.zone)
            opens, closes = opens.astimezone(UTC), closes.astimezone(UTC)
            if closes > opens:  # a range swallowed by a DST gap is no range
                stretches.append(Stretch(opens, closes))
        return stretches

    def stretches(self, start: date, days: int) -> Iterator[Stretch]:
        """Open stretches of `days` local days from `start`, merged where they touch."""
        current: Stretch | None = None
        for offset in range(days):
            for stretch in self._day(start + timedelta(days=offset)):
                if current is not None and stretch.opens <= current.closes:
                    current = Stretch(current.opens, max(current.closes, stretch.closes))
                    continue
                if current is not None:
                    yield current
                current = stretch
        if current is not None:
            yield current

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def is_open(self, at: datetime) -> bool:
        """True when the group works at `at` (an aware instant)."""
        if self.hours is None:
            return True
        begin = self._local_date(at) - timedelta(days=1)
        return any(s.opens <= at < s.closes for s in self.stretches(begin, 3))

    def next_opening(self, at: datetime) -> datetime | None:
        """When the group is next open: `at` itself when open then; None when never (a
        schedule whose every open day is a holiday within the horizon)."""
        if self.hours is None:
            return at
        begin = self._local_date(at) - timedelta(days=1)
        for stretch in self.stretches(begin, HORIZON_DAYS):
            if stretch.closes > at:
                return max(stretch.opens, at)
        return None

    def last_closing(self, at: datetime) -> datetime | None:
        """The latest instant ≤ `at` at which the group closed (None: always open, or not
        within the horizon). While closed, it is when this closed spell began."""
        if self.hours is None:
            return None
        # The last week first (the intake asks this for every message while closed); a
        # stretch cut by the window's start keeps its true end, so only the opening differs.
        for days in (RECENT_DAYS, HORIZON_DAYS):
            begin = self._local_date(at) - timedelta(days=days)
            found = None
            for stretch in self.stretches(begin, days + 2):
                if stretch.closes <= at:
                    found = stretch.closes
                else:
                    break
            if found is not None:
                return found
        return None

    def clock_start(self, at: datetime) -> datetime:
        """When an SLA clock that starts at `at` really starts: at once while open, at the
        next opening otherwise (or `at` when the schedule never opens again)."""
        opening = self.next_opening(at)
        return opening if opening is not None else at

    # ---- words ---------------------------------------------------------------------------

    def describe(self, at: datetime, language: str) -> str:
        """`at` as the customer reads it in the group's zone: "Mon 4 Jan, 09:00 (Europe/Moscow)"
        ("today"/"tomorrow" are avoided: the customer's own day may differ)."""
        local = at.astimezone(self.zone)
        lang = "ru" if language == "ru" else "en"
        weekday = _WEEKDAYS[lang][local.weekday()]
        month = _MONTHS[lang][local.month - 1]
        zone = self.hours.timezone if self.hours is not None else "UTC"
        return f"{weekday} {local.day} {month}, {local:%H:%M} ({zone})"
