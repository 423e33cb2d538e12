"""The platform-free core against a fake desk and the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from core_fakes import FakeDesk, FakeOutlet

from bridge.core import commands
from bridge.core.claims import accept
from bridge.core.inbound import DuplicateInbound, handle_inbound
from bridge.core.platform_names import NO_NAMES
from bridge.core.replies import OperatorMessage, handle_operator_message
from bridge.events import CustomerProfile, Inbound
from storage.conversations import get_conversation
from storage.counters import count_new, count_unanswered
from storage.messages import conversation_messages

ANN = CustomerProfile(first_name="Ann", last_name="Lee", language="en")


def said(external_id: str, body: str = "hi", user: str = "501", **kw) -> Inbound:
    return Inbound(
        channel="telegram",
        chat=user,
        user=user,
        external_id=external_id,
        text=body,
        profile=kw.pop("profile", ANN),
        **kw,
    )


async def inbound(sessions, desk: FakeDesk, event: Inbound):
    async with sessions() as session, session.begin():
        return await handle_inbound(session, event, group="support", desk=desk)


async def test_first_message_posts_a_card_and_later_ones_fold_into_it(sessions) -> None:
    desk = FakeDesk()
    first = await inbound(sessions, desk, said("1", "hello"))
    second = await inbound(sessions, desk, said("2", "anyone?"))
    assert first.status == "posted" and first.new_conversation
    assert second.conversation_id == first.conversation_id and not second.new_conversation
    assert desk.names() == ["post_card", "update_card"]


async def test_a_repeated_message_makes_no_second_row_and_no_second_post(sessions) -> None:
    desk = FakeDesk()
    await inbound(sessions, desk, said("1"))
    again = await inbound(sessions, desk, said("1"))
    assert again.status == "duplicate"
    assert desk.names() == ["post_card"]
    async with sessions() as session:
        assert len(await conversation_messages(session, 1)) == 1


async def test_concurrent_duplicates_store_one_row(sessions) -> None:
    desk = FakeDesk()
    await inbound(sessions, desk, said("0"))

    async def one() -> str:
        try:
            return (await inbound(sessions, desk, said("7"))).status
        except DuplicateInbound:
            return "duplicate"

    results = await asyncio.gather(*(one() for _ in range(5)))
    assert sorted(results) == ["duplicate"] * 4 + ["posted"]


async def test_only_one_of_simultaneous_accepts_wins(sessions) -> None:
    desk = FakeDesk()
    result = await inbound(sessions, desk, said("1"))

    async def press(operator_id: int):
        async with sessions() as session, session.begin():
            return await accept(
                session, result.conversation_id, operator_id, f"Op{operator_id}", desk=desk
            )

    outcomes = await asyncio.gather(*(press(i) for i in range(1, 9)))
    winners = [o for o in outcomes if o.status == "won"]
    assert len(winners) == 1
    assert {o.operator_name for o in outcomes} == {winners[0].operator_name}
    assert desk.names().count("open_place") == 1
    assert desk.names().count("update_card") == 1


async def test_message_after_accept_is_relayed_and_counters_follow(sessions) -> None:
    desk, outlet = FakeDesk(), FakeOutlet()
    result = await inbound(sessions, desk, said("1"))
    await inbound(sessions, desk, said("x1", user="777", profile=None))  # a guest, still new
    async with sessions() as session, session.begin():
        await accept(session, result.conversation_id, 42, "Bob", desk=desk)
    await inbound(sessions, desk, said("2", "more"))
    assert desk.calls[-1] == ("relay_inbound", "more")
    async with sessions() as session:
        assert await count_new(session, "support") == 1
        assert await count_unanswered(session, "support") == 1
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, result.conversation_id)
        note = OperatorMessage("g:1", operator_id=43, operator_name="Eve", text="psst")
        reply = OperatorMessage("g:2", operator_id=42, operator_name="Bob", text="hello!")
        note2 = OperatorMessage("g:3", operator_id=43, operator_name="Eve", text="again")
        for message in (note, reply, note2):
            await handle_operator_message(
                session, conversation, message, desk=desk, outlet=outlet, language="en"
            )
    assert outlet.sent == [("reply", "hello!")]
    hints = [h for n, h in desk.calls if n == "notice"]
    assert len(hints) == 1 and "Eve" in hints[0]
    async with sessions() as session:
        assert await count_unanswered(session, "support") == 0
        kinds = [m.direction for m in await conversation_messages(session, 1)]
        assert kinds == ["in", "in", "note", "out", "note"]


async def test_close_by_a_non_claimer_is_refused_and_by_the_claimer_done(sessions) -> None:
    desk, outlet = FakeDesk(), FakeOutlet()
    result = await inbound(
        sessions, desk, said("1", profile=CustomerProfile(first_name="Иван", language="ru"))
    )
    async with sessions() as session, session.begin():
        await accept(session, result.conversation_id, 42, "Bob", desk=desk)
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, result.conversation_id)
        refused = await commands.close(
            session,
            conversation,
            commands.Caller(43, "Eve"),
            desk=desk,
            outlet=outlet,
            language="en",
        )
        done = await commands.close(
            session,
            conversation,
            commands.Caller(42, "Bob"),
            desk=desk,
            outlet=outlet,
            language="en",
        )
    assert not refused.ok and "Bob" in refused.html
    assert done.ok
    assert outlet.sent == [
        ("text", "Спасибо за обращение! Разговор завершён; пишите в любое время.")
    ]
    assert "close_place" in desk.names()
    again = await inbound(sessions, desk, said("2", "back"))
    assert again.new_conversation and again.conversation_id != result.conversation_id


async def test_blocked_customer_is_stored_but_not_posted(sessions) -> None:
    desk = FakeDesk()
    result = await inbound(sessions, desk, said("1"))
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, result.conversation_id)
        await commands.set_blocked(session, conversation, True, language="en")
    blocked = await inbound(sessions, desk, said("2"))
    assert blocked.status == "blocked" and desk.names() == ["post_card"]


async def _reply(sessions, desk, outlet, external_id: str, body: str, operator_id: int = 42):
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, 1)
        message = OperatorMessage(
            external_id, operator_id=operator_id, operator_name="Bob", text=body
        )
        return await handle_operator_message(
            session, conversation, message, desk=desk, outlet=outlet, language="en"
        )


async def test_a_blocked_customers_messages_are_stored_but_never_counted(sessions) -> None:
    desk, outlet = FakeDesk(), FakeOutlet()
    result = await inbound(sessions, desk, said("1"))
    async with sessions() as session, session.begin():
        await accept(session, result.conversation_id, 42, "Bob", desk=desk)
    await _reply(sessions, desk, outlet, "g:1", "hello")
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, result.conversation_id)
        await commands.set_blocked(session, conversation, True, language="en")
    spam = await inbound(sessions, desk, said("2", "spam"))
    assert spam.status == "blocked"
    async with sessions() as session:
        assert await count_unanswered(session, "support") == 0
        assert await count_unanswered(session, "support", operator_id=42) == 0
        my = await commands.my(
            session, 42, ["support"], link_for=lambda c: "x", language="en", names=NO_NAMES
        )
        assert "yours with new messages: 0" in my.html and "new messages —" not in my.html
        assert [m.text for m in await conversation_messages(session, 1)][-1] == "spam"
    # Closed, the blocked customer writes again: a conversation nobody sees is not "new".
    async with sessions() as session, session.begin():
        conversation = await get_conversation(session, result.conversation_id)
        bob = commands.Caller(42, "Bob")
        await commands.close(session, conversation, bob, desk=desk, outlet=outlet, language="en")
    again = await inbound(sessions, desk, said("3", "more spam"))
    assert again.status == "blocked" and again.new_conversation
    async with sessions() as session:
        assert await count_new(session, "support") == 0
    assert "post_card" not in desk.names()[1:]


@pytest.mark.parametrize("late_seconds", [0, 600], ids=["same_second", "backlog"])
async def test_a_customer_message_right_after_a_reply_is_unanswered_until_the_next_reply(
    sessions,
    late_seconds: int,
) -> None:
    desk, outlet = FakeDesk(), FakeOutlet()
    result = await inbound(sessions, desk, said("1"))
    async with sessions() as session, session.begin():
        await accept(session, result.conversation_id, 42, "Bob", desk=desk)
    await _reply(sessions, desk, outlet, "g:1", "hello")
    async with sessions() as session:
        replied_at = (await conversation_messages(session, 1))[-1].created_at
        assert await count_unanswered(session, "support") == 0
    # Telegram dates a message in whole seconds (and a backlog arrives long after it was sent):
    # the platform's time reads as older than the reply the customer is answering.
    sent_at = replied_at.replace(microsecond=0) - timedelta(seconds=late_seconds)
    await inbound(sessions, desk, said("2", "one more thing", sent_at=sent_at))
    async with sessions() as session:
        assert await count_unanswered(session, "support") == 1
        assert await count_unanswered(session, "support", operator_id=42) == 1
        shown = (await conversation_messages(session, 1))[-1]
        assert shown.text == "one more thing" and shown.created_at == sent_at  # display time
    await _reply(sessions, desk, outlet, "g:2", "sure")
    async with sessions() as session:
        assert await count_unanswered(session, "support") == 0
