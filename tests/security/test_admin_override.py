"""The admin override (issue 14): an administrator of the group, or a user listed in
`groups.NAME.admins`, takes a claimed conversation back (/release) and may /block, whoever
claimed it; nobody else can. /history is rate limited per operator, told once per wait."""

from __future__ import annotations

import asyncio

from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.models import Conversation, ConversationState, Customer
from tests.desk.desk_harness import accept_card, accepted, eventually, running_desk
from tests.security.abuse import Ledger


def _texts(fake, chat_id: int, topic: int | None = None) -> str:
    return "\n".join(m.text or "" for m in fake.chat_view(chat_id, topic=topic))


async def _row(url: str, model):
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return (await session.exec(select(model))).one()
    finally:
        await engine.dispose()


async def test_a_member_cannot_take_a_claimed_conversation_back(
    sqlite_url, ledger: Ledger
) -> None:
    row = ledger.attack("/release of another's conversation by a plain member")
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.eve, "/release", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: "Only Ann Operator, who accepted" in _texts(fake, desk.group_id, topic)
        )
        conversation = await _row(sqlite_url, Conversation)
        row.count(200, succeeded=conversation.state != ConversationState.ACCEPTED)
    assert conversation.state == ConversationState.ACCEPTED
    assert conversation.operator_name == "Ann Operator"
    assert row.succeeded == 0


async def test_a_group_administrator_takes_a_conversation_back(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.promote(desk.eve, desk.group_id)
        fake.user_says(desk.eve, "/release", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: (
                "Eve Member took conversation #1 back from Ann Operator"
                in _texts(fake, desk.group_id, topic)
            )
        )
        conversation = await _row(sqlite_url, Conversation)
        assert conversation.state == ConversationState.NEW and conversation.operator_id is None
        # A fresh card with Accept is in the feed again, and Bob can take it.
        await eventually(lambda: desk.card(1))
        await accept_card(desk, desk.bob, desk.card())
        await eventually(lambda: _texts(fake, desk.group_id).count("Bob Operator") >= 1)
        conversation = await _row(sqlite_url, Conversation)
        assert conversation.operator_name == "Bob Operator"


async def test_only_a_configured_admin_outside_operators_releases_and_blocks(
    sqlite_url, ledger: Ledger
) -> None:
    row = ledger.attack("/release and /block by a member who is no operator")
    async with running_desk(sqlite_url, operators_list=True, admins=("Eve",)) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        owner = fake.add_user("Olga", "Outsider")
        fake.join(owner, desk.group_id)
        for command in ("/release", "/block"):
            fake.user_says(owner, command, chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: _texts(fake, desk.group_id, topic).count("Only operators of this group") == 2
        )
        conversation, customer = (
            await _row(sqlite_url, Conversation),
            await _row(sqlite_url, Customer),
        )
        row.count(200, succeeded=conversation.state != ConversationState.ACCEPTED)
        row.count(200, succeeded=customer.blocked)
        assert row.succeeded == 0
        # Eve is listed in `admins` (neither an operator nor a Telegram administrator).
        fake.user_says(desk.eve, "/block", chat_id=desk.group_id, topic=topic)
        fake.user_says(desk.eve, "/release", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: (
                "Eve Member took conversation #1 back from Ann Operator"
                in _texts(fake, desk.group_id, topic)
            )
        )
        assert (await _row(sqlite_url, Customer)).blocked is True
        assert (await _row(sqlite_url, Conversation)).state == ConversationState.NEW


async def test_history_is_rate_limited_and_the_limit_is_told_once(
    sqlite_url, ledger: Ledger
) -> None:
    row = ledger.attack("/history flood by one operator (posts beyond the limit)")
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        for _ in range(8):
            fake.user_says(desk.ann, "/history", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: "/history again in" in _texts(fake, desk.group_id, topic))
        # Let everything queued reach the group, then count.
        await eventually(
            lambda: _texts(fake, desk.group_id, topic).count("History of #1") >= 3, wait=10
        )
        await asyncio.sleep(1.0)
        texts = _texts(fake, desk.group_id, topic)
        answers, waits = texts.count("History of #1"), texts.count("/history again in")
        row.attempts += 8
        row.succeeded += max(0, answers - 3) + max(0, waits - 1)
    assert (answers, waits) == (3, 1)
