"""A running desk with SLA times, whose helpdesk jobs only the test's clock ticks.

`sla_desk` is `running_desk` (tests/desk/desk_harness.py: the real service against the fake
Telegram) with `sla`, `hours` and `auto_close_after` on the group; the jobs' own scheduler is
stopped at once, so every reminder in a test comes from `jobs(desk).tick(now=...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from bridge.helpdesk import Helpdesk
from storage.models import Conversation, Direction, Message
from tests.desk.desk_harness import Desk, running_desk


@asynccontextmanager
async def sla_desk(
    database: str,
    *,
    accept: str | None = "5m",
    answer: str | None = "15m",
    auto_close: str | None = None,
    hours: dict[str, Any] | None = None,
    **kwargs: Any,
) -> AsyncIterator[Desk]:
    sla = {key: value for key, value in (("accept_within", accept), ("answer_within", answer))}
    group: dict[str, Any] = {"sla": {k: v for k, v in sla.items() if v is not None}}
    if auto_close is not None:
        group["auto_close_after"] = auto_close
    if hours is not None:
        group["hours"] = hours
    async with running_desk(database, extra_group=group, **kwargs) as desk:
        await jobs(desk).stop()  # only the test's clock ticks the jobs
        yield desk


def jobs(desk: Desk) -> Helpdesk:
    helpdesk = desk.service.helpdesk
    assert helpdesk is not None, "the wiring adds the helpdesk jobs when SLA is configured"
    return helpdesk


async def conversation(desk: Desk, number: int) -> Conversation:
    async with desk.service.runtime.sessions() as session:
        found = await session.get(Conversation, number)
        assert found is not None
        return found


async def conversations(desk: Desk) -> list[Conversation]:
    async with desk.service.runtime.sessions() as session:
        found = await session.exec(select(Conversation).order_by(col(Conversation.id)))
        return list(found.all())


async def set_times(desk: Desk, number: int, **values: Any) -> None:
    """Move a conversation's stored instants (its clock) to where the test needs them."""
    async with desk.service.runtime.transaction() as session:
        await session.exec(
            update(Conversation).where(col(Conversation.id) == number).values(**values)
        )


async def set_customer_messages_at(desk: Desk, number: int, at: datetime) -> None:
    """The customer's messages of a conversation were written at `at` (and so its
    `last_customer_message_at`)."""
    async with desk.service.runtime.transaction() as session:
        await session.exec(
            update(Message)
            .where(col(Message.conversation_id) == number, col(Message.direction) == Direction.IN)
            .values(created_at=at)
        )
        await session.exec(
            update(Conversation)
            .where(col(Conversation.id) == number)
            .values(last_customer_message_at=at)
        )


def texts(desk: Desk, chat_id: int, needle: str) -> list[str]:
    """Texts of the chat's messages that contain `needle` (the group: every topic; a private
    chat the user never opened: none)."""
    try:
        shown = desk.fake.chat_view(chat_id)
    except ValueError:
        return []
    return [m.text for m in shown if m.text and needle in m.text]


def feed_reminders(desk: Desk) -> list[str]:
    """The accept reminders the group shows, one per reminder (merged posts split)."""
    found = []
    for message in texts(desk, desk.group_id, "for Accept"):
        found.extend(line for line in message.split("\n") if "waited" in line)
    return found


def private_reminders(desk: Desk, user: Any, needle: str = "has waited") -> list[str]:
    return texts(desk, user.id, needle)
