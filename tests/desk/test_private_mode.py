"""`mode: private` (issue 16): the feed and the cards stay in the group; an accepted
conversation continues in a topic of the claimer's private chat with the bot."""

from __future__ import annotations

import asyncio
from typing import Any

from desk_harness import Desk, accept_card, eventually, running_desk

from desk.callbacks import TransferCallback
from storage.models import Conversation, ConversationState, Operator


def private_texts(desk: Desk, user: Any, thread: int) -> list[str]:
    """What `user` sees from the bot in topic `thread` of their private chat."""
    return [
        m.text or m.caption or ""
        for m in desk.fake.chat_view(user.id, topic=thread)
        if m.from_id != user.id
    ]


async def private_topic(desk: Desk, user: Any, first: str) -> int:
    """The thread of `user`'s private topic once `first` (the history) is in it."""
    topics = await eventually(
        lambda: [t for t in desk.fake.topics(user.id) if not t.deleted], what="private topic"
    )
    thread = topics[-1].thread_id
    await eventually(
        lambda: any(first in t for t in private_texts(desk, user, thread)), what="history"
    )
    return thread


async def _row(desk: Desk, number: int) -> Conversation:
    async with desk.service.runtime.sessions() as session:
        row = await session.get(Conversation, number)
        assert row is not None
        return row


async def started(desk: Desk, user: Any) -> None:
    """`user` sends /start to the bot; returns once the bridge knows they did."""
    desk.fake.user_says(user, "/start")

    async def known() -> bool:
        async with desk.service.runtime.sessions() as session:
            operator = await session.get(Operator, user.id)
            return operator is not None and operator.private_chat_started

    for _ in range(200):
        if await known():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{user.first_name}'s /start was not recorded")


async def test_accept_opens_a_topic_in_the_claimers_private_chat_and_relays_both_ways(
    db_url,
) -> None:
    async with running_desk(db_url, mode="private", bot_topics=True) as desk:
        fake = desk.fake
        await started(desk, desk.ann)
        fake.user_says(desk.customer, "I need help")
        card = await eventually(desk.card, what="the card in the group")
        fake.user_says(desk.customer, "order 42")
        await eventually(lambda: "order 42" in desk.card().caption, what="folded")
        answer = await accept_card(desk, desk.ann, card)
        assert "yours" in answer["text"]
        thread = await private_topic(desk, desk.ann, "order 42")
        texts = private_texts(desk, desk.ann, thread)
        assert any("I need help" in t for t in texts)
        assert fake.topics(desk.ann.id)[-1].name.startswith("#1 Иван")
        await eventually(lambda: "Accepted by Ann" in desk.card().caption, what="who has it")
        assert desk.card().callback_data == []
        # Ann answers in her private topic: the customer gets it.
        fake.user_says(desk.ann, "Hello, how can I help?", topic=thread)
        await eventually(
            lambda: any("how can I help" in (m.text or "") for m in desk.customer_sees()),
            what="the reply at the customer",
        )
        # The customer's next message appears in Ann's private topic, not in the group.
        fake.user_says(desk.customer, "thanks, it is order 42")
        await eventually(
            lambda: any("thanks, it is" in t for t in private_texts(desk, desk.ann, thread)),
            what="the customer's message in the private topic",
        )
        group_texts = [m.text or "" for m in fake.chat_view(desk.group_id)]
        assert not any("thanks, it is" in t for t in group_texts)
        # An edit follows the reply to the customer.
        reply = next(
            m
            for m in fake.chat_view(desk.ann.id, topic=thread)
            if m.text == "Hello, how can I help?"
        )
        fake.user_edits(desk.ann, desk.ann.id, reply.message_id, "Hello, what can I do?")
        await eventually(
            lambda: any("what can I do" in (m.text or "") for m in desk.customer_sees()),
            what="the edit at the customer",
        )


async def test_close_in_the_private_topic_closes_the_conversation(db_url) -> None:
    async with running_desk(db_url, mode="private", bot_topics=True) as desk:
        fake = desk.fake
        await started(desk, desk.ann)
        fake.user_says(desk.customer, "please close me")
        await accept_card(desk, desk.ann, await eventually(desk.card))
        thread = await private_topic(desk, desk.ann, "please close me")
        fake.user_says(desk.ann, "/close", topic=thread)
        await eventually(
            lambda: "✅" in fake.topics(desk.ann.id)[-1].name, what="the topic marked done"
        )
        assert (await _row(desk, 1)).state == ConversationState.CLOSED
        await eventually(
            lambda: any("closed" in t.lower() for t in private_texts(desk, desk.ann, thread)),
            what="the closed notice in the topic",
        )


async def test_history_and_release_work_in_the_private_topic(db_url) -> None:
    async with running_desk(db_url, mode="private", bot_topics=True) as desk:
        fake = desk.fake
        await started(desk, desk.ann)
        fake.user_says(desk.customer, "where is my parcel")
        await accept_card(desk, desk.ann, await eventually(desk.card))
        thread = await private_topic(desk, desk.ann, "where is my parcel")
        before = len(private_texts(desk, desk.ann, thread))
        fake.user_says(desk.ann, "/history", topic=thread)
        await eventually(
            lambda: len(private_texts(desk, desk.ann, thread)) > before, what="/history answer"
        )
        fake.user_says(desk.ann, "/release", topic=thread)
        await eventually(lambda: desk.card().callback_data, what="a fresh card with Accept")
        row = await _row(desk, 1)
        assert row.state == ConversationState.NEW and row.operator_id is None
        await eventually(lambda: "✅" in fake.topics(desk.ann.id)[-1].name, what="old topic done")
        # Bob takes it: his own private topic, with the history.
        await started(desk, desk.bob)
        await accept_card(desk, desk.bob, desk.card())
        await private_topic(desk, desk.bob, "where is my parcel")


async def test_operator_who_never_started_the_bot_is_told_and_the_card_keeps_accept(
    db_url,
) -> None:
    async with running_desk(db_url, mode="private", bot_topics=True) as desk:
        desk.fake.user_says(desk.customer, "hello")
        card = await eventually(desk.card)
        answer = await accept_card(desk, desk.ann, card)
        assert answer["show_alert"] is True
        assert "Start a private chat with the bot" in answer["text"]
        await asyncio.sleep(0.3)
        assert desk.card().callback_data, "the card keeps its Accept button"
        assert (await _row(desk, 1)).state == ConversationState.NEW
        # Once she starts the bot, the same button works.
        await started(desk, desk.ann)
        answer = await accept_card(desk, desk.ann, desk.card())
        assert "yours" in answer["text"]
        await private_topic(desk, desk.ann, "hello")


async def test_bot_without_threaded_mode_refuses_accept_with_the_botfather_advice(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url, mode="private") as desk:
        await started(desk, desk.ann)
        desk.fake.user_says(desk.customer, "hello")
        answer = await accept_card(desk, desk.ann, await eventually(desk.card))
        assert answer["show_alert"] is True
        assert "BotFather" in answer["text"]
        assert desk.card().callback_data
        assert (await _row(desk, 1)).state == ConversationState.NEW


async def test_transfer_moves_the_conversation_to_the_new_claimers_private_chat(db_url) -> None:
    async with running_desk(db_url, mode="private", bot_topics=True, operators_list=True) as desk:
        fake = desk.fake
        await started(desk, desk.ann)
        await started(desk, desk.bob)
        fake.user_says(desk.customer, "my parcel is late")
        await accept_card(desk, desk.ann, await eventually(desk.card))
        thread = await private_topic(desk, desk.ann, "my parcel is late")
        fake.user_says(desk.ann, "/transfer", topic=thread)
        offer = await eventually(
            lambda: [m for m in fake.chat_view(desk.ann.id, topic=thread) if m.callback_data],
            what="the transfer buttons",
        )
        data = TransferCallback(conversation=1, operator=desk.bob.id).pack()
        query = fake.press(desk.ann, desk.ann.id, offer[0].message_id, data)
        answer = await eventually(lambda: fake.callback_answer(query))
        assert "Transferred to Bob Operator" in answer["text"]
        bobs = await private_topic(desk, desk.bob, "my parcel is late")
        await eventually(lambda: "✅" in fake.topics(desk.ann.id)[-1].name, what="Ann's done")
        await eventually(lambda: "Bob" in desk.card().caption, what="the card names Bob")
        fake.user_says(desk.bob, "Bob here", topic=bobs)
        await eventually(lambda: any("Bob here" in (m.text or "") for m in desk.customer_sees()))
        fake.user_says(desk.customer, "hi Bob")
        await eventually(lambda: any("hi Bob" in t for t in private_texts(desk, desk.bob, bobs)))
        assert not any("hi Bob" in t for t in private_texts(desk, desk.ann, thread))


def test_check_config_accepts_private_mode_and_says_what_to_switch_on() -> None:
    from app.config import parse_config

    config = parse_config(
        {
            "database": "sqlite:///x.db",
            "telegram": {"token": "123456:TEST-token_for_the_fake"},
            "groups": {"support": {"chat_id": -1001234567890, "mode": "private"}},
            "channels": {"telegram": {"group": "support"}},
        },
        source="test",
    )
    group = config.groups["support"]
    assert group.mode == "private"
    assert "BotFather" in group.describe()
