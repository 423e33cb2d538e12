"""`/stats`: accepted and closed, median times to accept and to answer, ratings — for today in
the group's zone, 7 and 30 days, per operator and in all — checked against rows made here (SQLite
and PostgreSQL); and the command end to end: operators of the group only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.core.stats import duration, group_stats
from bridge.hours import WorkingHours
from config.helpdesk import HoursConfig
from storage.models import Conversation, ConversationState, Customer
from tests.desk.desk_harness import Desk, accepted, eventually, running_desk

NOW = datetime(2027, 3, 31, 15, 0, tzinfo=UTC)  # Wed, 18:00 in Moscow
MOSCOW = WorkingHours(
    HoursConfig.model_validate({"timezone": "Europe/Moscow", "week": {"mon-fri": "09:00-18:00"}})
)
ANN, BOB = (1, "Ann Operator"), (2, "Bob <i>B</i>")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=UTC)


def conv(
    operator: tuple[int, str] | None,
    opened: datetime,
    *,
    accept_after: timedelta | None = None,
    sla_from: datetime | None = None,
    answer_after: timedelta | None = None,
    closed: datetime | None = None,
    rating: int | None = None,
    group: str = "support",
) -> dict[str, Any]:
    accepted_at = (sla_from or opened) + accept_after if accept_after is not None else None
    return {
        "group": group,
        "operator_id": operator[0] if operator else None,
        "operator_name": operator[1] if operator else None,
        "state": ConversationState.CLOSED
        if closed
        else (ConversationState.ACCEPTED if accepted_at else ConversationState.NEW),
        "opened_at": opened,
        "sla_from": sla_from,
        "outside_hours": sla_from is not None,
        "accepted_at": accepted_at,
        "first_reply_at": accepted_at + answer_after if accepted_at and answer_after else None,
        "closed_at": closed,
        "rating": rating,
        "rated_at": closed + timedelta(minutes=1) if closed and rating else None,
    }


M = timedelta(minutes=1)
ROWS = [
    # today (Moscow): from 30 Mar 21:00 UTC
    conv(ANN, at(31, 14), accept_after=2 * M, answer_after=3 * M, closed=at(31, 14, 30), rating=5),
    conv(ANN, at(30, 21, 20), accept_after=10 * M, answer_after=1 * M),  # 00:30 in Moscow
    # earlier this week
    conv(BOB, at(30, 20, 28), accept_after=2 * M),  # 23:30 in Moscow the day before: not today
    conv(BOB, at(29, 12), accept_after=4 * M, answer_after=20 * M, closed=at(29, 13), rating=3),
    # outside hours: the wait counts from the opening (sla_from), not from 22:00
    conv(BOB, at(28, 22), sla_from=at(29, 6), accept_after=6 * M, closed=at(29, 7)),
    # this month
    conv(ANN, at(11, 10), accept_after=30 * M, answer_after=10 * M, closed=at(11, 11), rating=4),
    # older than 30 days, never accepted, another group: not counted
    conv(ANN, at(1, 10), accept_after=M, closed=at(1, 11), rating=1),
    conv(None, at(31, 12)),
    conv(BOB, at(31, 12), accept_after=M, closed=at(31, 13), rating=1, group="other"),
]


async def test_stats_count_and_take_medians_per_period_and_operator(sessions: Any) -> None:
    async with sessions() as session, session.begin():
        for number, row in enumerate(ROWS):
            customer = Customer(channel="vk", external_id=str(number), chat=str(number))
            session.add(customer)
            await session.flush()
            session.add(Conversation(customer_id=customer.id, **row))
    async with sessions() as session:
        reply = await group_stats(session, "support", hours=MOSCOW, now=NOW, language="en")
    lines = reply.html.splitlines()
    assert lines[0] == "📈 <b>Statistics</b> · support · Europe/Moscow"
    assert lines[1:] == [
        "<b>Today</b>: accepted 2 · closed 1 · to accept 6m · to answer 2m · rating 5.0 (1)",
        "  Ann Operator: acc 2 · cl 1 · 6m / 2m · ★ 5.0 (1)",
        "<b>7 days</b>: accepted 5 · closed 3 · to accept 4m · to answer 3m · rating 4.0 (2)",
        "  Bob &lt;i&gt;B&lt;/i&gt;: acc 3 · cl 2 · 4m / 20m · ★ 3.0 (1)",
        "  Ann Operator: acc 2 · cl 1 · 6m / 2m · ★ 5.0 (1)",
        "<b>30 days</b>: accepted 6 · closed 4 · to accept 5m · to answer 6m · rating 4.0 (3)",
        "  Ann Operator: acc 3 · cl 2 · 10m / 3m · ★ 4.5 (2)",
        "  Bob &lt;i&gt;B&lt;/i&gt;: acc 3 · cl 2 · 4m / 20m · ★ 3.0 (1)",
        lines[-1],
    ]
    assert lines[-1].startswith("<i>Times are medians")


async def test_stats_of_a_group_without_hours_count_today_from_midnight_utc(
    sessions: Any,
) -> None:
    async with sessions() as session, session.begin():
        for number, row in enumerate(ROWS[:3]):
            customer = Customer(channel="vk", external_id=str(number), chat=str(number))
            session.add(customer)
            await session.flush()
            session.add(Conversation(customer_id=customer.id, **row))
    async with sessions() as session:
        reply = await group_stats(
            session, "support", hours=WorkingHours.always(), now=NOW, language="ru"
        )
    lines = reply.html.splitlines()
    assert lines[0] == "📈 <b>Статистика</b> · support · UTC"
    # In UTC "today" began at 00:00: only the 14:02 accept.
    assert lines[1].startswith("<b>Сегодня</b>: принято 1 · закрыто 1 · до принятия 2m")


def test_durations_are_short() -> None:
    assert [duration(s, "en") for s in (None, 4, 59.6, 61, 3600 + 300, 86400 * 2 + 7200)] == [
        "—",
        "4s",
        "1m",
        "1m",
        "1h05",
        "2d2h",
    ]


def said_in_group(desk: Desk, needle: str) -> list[Any]:
    return [m for m in desk.fake.chat_view(desk.group_id) if needle in (m.text or "")]


async def test_stats_command_answers_operators_of_the_group_only(db_url: str) -> None:
    async with running_desk(db_url, operators_list=True) as desk:
        topic = await accepted(desk, desk.ann)
        desk.fake.user_says(desk.ann, "right away", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: [m for m in desk.customer_sees() if m.text == "right away"])
        desk.fake.user_says(desk.ann, "/close", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: [t for t in desk.fake.topics(desk.group_id) if t.closed])
        desk.fake.user_says(desk.ann, "/stats", chat_id=desk.group_id)
        [answer] = await eventually(lambda: said_in_group(desk, "Statistics · support · UTC"))
        assert "Today: accepted 1 · closed 1" in answer.text
        assert "Ann Operator: acc 1 · cl 1" in answer.text
        desk.fake.user_says(desk.eve, "/stats", chat_id=desk.group_id)
        await eventually(lambda: said_in_group(desk, "Only operators of this group can use"))
        assert len(said_in_group(desk, "Statistics")) == 1
