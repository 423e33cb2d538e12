"""`/stats`: a group's figures for today, the last 7 and the last 30 days, per operator and in all.

- accepted / closed: conversations accepted (closed) in the period, by the claimer;
- time to accept: median of `accepted_at - (sla_from or opened_at)` of those accepted in the
  period (an inquiry outside hours waits from the opening time; an early accept counts 0);
- time to answer: median of `first_reply_at - accepted_at` of those accepted in the period
  and answered since their accept;
- rating: count and average of the ratings given in the period (`rated_at`, else `closed_at`).

"Today" starts at midnight in the group's zone (`hours.timezone`), or UTC without hours.
The rows come from one bounded query (storage/helpdesk.py `stats_rows`); the medians are
computed here, so SQLite and PostgreSQL give the same answer. One compact HTML message.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bridge.core.cards import escape, escaped_shortened
from bridge.core.commands import CommandReply
from bridge.core.texts import text
from storage.helpdesk import StatsRow, stats_rows

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.hours import WorkingHours

#: Operators listed per period (the busiest first); the total counts everyone.
OPERATORS_SHOWN = 10
#: The periods, longest last: (text key, days back; 0 = since local midnight).
PERIODS: tuple[tuple[str, int], ...] = (("stats.today", 0), ("stats.week", 7), ("stats.month", 30))


@dataclass(slots=True)
class Figures:
    """One period's figures for one operator (or everyone)."""

    accepted: int = 0
    closed: int = 0
    to_accept: list[float] = field(default_factory=list)
    to_answer: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)

    @property
    def median_accept(self) -> float | None:
        return statistics.median(self.to_accept) if self.to_accept else None

    @property
    def median_answer(self) -> float | None:
        return statistics.median(self.to_answer) if self.to_answer else None

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


@dataclass(slots=True)
class Period:
    """A period's figures in all and per operator id, and the operators' names."""

    since: datetime
    total: Figures = field(default_factory=Figures)
    operators: dict[int, Figures] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def period_figures(rows: Sequence[StatsRow], since: datetime, until: datetime) -> Period:
    """The figures of the conversations in `rows` for [since, until]."""
    period = Period(since)

    def add(row: StatsRow) -> list[Figures]:
        found = [period.total]
        if row.operator_id is not None:
            found.append(period.operators.setdefault(row.operator_id, Figures()))
            period.names.setdefault(row.operator_id, row.operator_name or str(row.operator_id))
        return found

    for row in rows:  # newest first: the names are the latest ones
        if row.accepted_at is not None and since <= row.accepted_at <= until:
            waited_from = row.sla_from or row.opened_at
            for figures in add(row):
                figures.accepted += 1
                figures.to_accept.append(max(0.0, _seconds(row.accepted_at, waited_from)))
                if row.first_reply_at is not None and row.first_reply_at >= row.accepted_at:
                    figures.to_answer.append(_seconds(row.first_reply_at, row.accepted_at))
        if row.closed_at is not None and since <= row.closed_at <= until:
            for figures in add(row):
                figures.closed += 1
        rated = row.rated_at or row.closed_at
        if row.rating is not None and rated is not None and since <= rated <= until:
            for figures in add(row):
                figures.ratings.append(row.rating)
    return period


def duration(seconds: float | None, language: str) -> str:
    """A short duration: "40s", "12m", "1h05", "2d3h"; "—" for none."""
    if seconds is None:
        return text(language, "stats.none")
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h{minutes:02d}"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours}h"


def rating(figures: Figures, language: str) -> str:
    average = figures.average_rating
    if average is None:
        return text(language, "stats.no_rating")
    return text(language, "stats.rating", average=f"{average:.1f}", count=len(figures.ratings))


def period_starts(now: datetime, hours: WorkingHours) -> list[datetime]:
    """When each of `PERIODS` starts: local midnight today (the group's zone), 7 and 30 days."""
    starts = []
    for _, days in PERIODS:
        if days == 0:
            local = now.astimezone(hours.zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            starts.append(midnight.astimezone(now.tzinfo))
        else:
            starts.append(now - timedelta(days=days))
    return starts


def render(
    group: str, zone: str, periods: Sequence[tuple[str, Period]], language: str
) -> CommandReply:
    """The one compact message (HTML; operators' names escaped)."""
    lines = [text(language, "stats.title", group=escape(group), zone=escape(zone))]
    for key, period in periods:
        total = period.total
        lines.append(
            text(
                language,
                "stats.period",
                label=text(language, key),
                accepted=total.accepted,
                closed=total.closed,
                accept=duration(total.median_accept, language),
                answer=duration(total.median_answer, language),
                rating=rating(total, language),
            )
        )
        busiest = sorted(
            period.operators.items(),
            key=lambda item: (-item[1].accepted, -item[1].closed, period.names[item[0]]),
        )
        for operator_id, figures in busiest[:OPERATORS_SHOWN]:
            lines.append(
                text(
                    language,
                    "stats.operator",
                    name=escaped_shortened(period.names[operator_id], 40),
                    accepted=figures.accepted,
                    closed=figures.closed,
                    accept=duration(figures.median_accept, language),
                    answer=duration(figures.median_answer, language),
                    rating=rating(figures, language),
                )
            )
    lines.append("<i>" + text(language, "stats.legend") + "</i>")
    return CommandReply("\n".join(lines))


async def group_stats(
    session: AsyncSession,
    group: str,
    *,
    hours: WorkingHours,
    now: datetime,
    language: str,
) -> CommandReply:
    """/stats of `group` at `now` (aware), in the group's zone (`hours`)."""
    starts = period_starts(now, hours)
    rows = await stats_rows(session, group, min(starts))
    periods = [
        (key, period_figures(rows, since, now))
        for (key, _), since in zip(PERIODS, starts, strict=True)
    ]
    zone = hours.hours.timezone if hours.hours is not None else "UTC"
    return render(group, zone, periods, language)
