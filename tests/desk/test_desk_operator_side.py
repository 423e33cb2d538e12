"""End to end: an operator's edits reach the customer, a customer who blocks the bot is shown,
and a topic closed by hand never traps a customer."""

from __future__ import annotations

import asyncio

import aiohttp
from desk_harness import TOKEN, eventually, running_desk

from storage.customers import set_customer_reachable
from storage.db import create_engine, session_factory
from storage.messages import conversation_messages
from storage.models import Customer


async def accepted_topic(desk) -> int:
    """The customer writes, Ann accepts; the topic's thread id."""
    fake = desk.fake
    fake.user_says(desk.customer, "hi")
    card = await eventually(desk.card, what="the card")
    query = fake.press(desk.ann, desk.group_id, card.message_id, card.callback_data[0])
    await eventually(lambda: fake.callback_answer(query))
    topic = (await eventually(lambda: fake.topics(desk.group_id)))[0].thread_id
    # The history (header and the customer's "hi") arrives as one post.
    await eventually(
        lambda: any((m.text or "").endswith("\nhi") for m in desk.topic_messages(topic))
    )
    return topic


async def stored(desk, query):
    engine = create_engine(desk.db)
    try:
        async with session_factory(engine)() as session:
            return await query(session)
    finally:
        await engine.dispose()


async def test_claimers_edit_of_a_relayed_reply_edits_the_customers_copy(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)
        sent = fake.user_says(desk.ann, "Helo, <b>how</b>?", chat_id=desk.group_id, topic=topic)
        copy = (await eventually(lambda: [m for m in desk.customer_sees() if m.text]))[0]
        assert copy.text == "Helo, <b>how</b>?"
        fake.user_edits(desk.ann, desk.group_id, sent["message_id"], "Hello, <b>how</b>?")
        await eventually(
            lambda: desk.customer_message(copy.message_id).text == "Hello, <b>how</b>?",
            what="the customer's copy edited",
        )
        await asyncio.sleep(0.3)
        assert len([m for m in desk.customer_sees() if m.text]) == 1  # edited, not resent
        assert fake.calls("editMessageText", status=200)
        replies = await stored(
            desk,
            lambda s: conversation_messages(s, 1),
        )
        out = [m for m in replies if m.direction == "out"]
        assert out[0].text == "Hello, <b>how</b>?" and out[0].edited_at is not None


async def test_an_edited_photo_reply_changes_the_customers_caption(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)
        sent = fake.user_sends_photo(
            desk.ann, caption="your recept", chat_id=desk.group_id, topic=topic
        )
        photo = (await eventually(lambda: [m for m in desk.customer_sees() if m.kind == "photo"]))[
            0
        ]
        assert photo.caption == "your recept"
        fake.user_edits(desk.ann, desk.group_id, sent["message_id"], "your receipt")
        await eventually(lambda: desk.customer_message(photo.message_id).caption == "your receipt")


async def test_an_edit_telegram_refuses_becomes_a_correction(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)
        sent = fake.user_says(desk.ann, "See you tomorow", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: [m for m in desk.customer_sees() if m.text])
        fake.fail_next(
            status=400,
            method="editMessageText",
            description="Bad Request: message can't be edited",
        )
        fake.user_edits(desk.ann, desk.group_id, sent["message_id"], "See you tomorrow")
        # The customer writes Russian (language_code ru): the correction is in their language.
        seen = await eventually(
            lambda: [m.text for m in desk.customer_sees() if "Исправление" in (m.text or "")]
        )
        assert seen == ["Исправление: See you tomorrow"]


async def test_an_edited_note_stays_inside_the_group(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)
        note = fake.user_says(desk.bob, "internal draft", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: any("internal notes" in (m.text or "") for m in desk.topic_messages(topic))
        )
        fake.user_edits(desk.bob, desk.group_id, note["message_id"], "internal final")

        async def note_text(session):
            return [
                m.text for m in await conversation_messages(session, 1) if m.direction == "note"
            ]

        deadline = asyncio.get_running_loop().time() + 5
        while await stored(desk, note_text) != ["internal final"]:
            assert asyncio.get_running_loop().time() < deadline, "the note was not updated"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert not any("internal" in (m.text or "") for m in desk.customer_sees())
        assert fake.calls("editMessageText") == [] or all(
            str(c.params.get("chat_id")) != str(desk.customer.id)
            for c in fake.calls("editMessageText")
        )


async def test_a_customer_who_blocks_the_bot_is_shown_unreachable_until_unblocked(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url, time_scale=40) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)

        async def reachable(session):
            customer = await session.get(Customer, 1)
            return customer.reachable, customer.unreachable_reason

        fake.block(desk.customer)
        await eventually(
            lambda: any(
                "The customer blocked the bot" in (m.text or "")
                for m in desk.topic_messages(topic)
            ),
            what="the blocked notice in the topic",
        )
        assert await stored(desk, reachable) == (False, "the customer blocked the bot")
        fake.unblock(desk.customer)
        await eventually(
            lambda: any(
                "The customer unblocked the bot" in (m.text or "")
                for m in desk.topic_messages(topic)
            )
        )
        assert await stored(desk, reachable) == (True, None)
        fake.user_says(desk.ann, "welcome back", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: any("welcome back" == m.text for m in desk.customer_sees()))


async def test_an_unreachable_telegram_customer_who_writes_is_reachable_again(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url, time_scale=40) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)

        async def unreachable(session):
            # A reply failed with "bot was blocked by the user"; the unblock update never came.
            async with session.begin():
                await set_customer_reachable(session, 1, False, "bot was blocked by the user")

        async def reachable(session):
            customer = await session.get(Customer, 1)
            return customer.reachable, customer.unreachable_reason

        await stored(desk, unreachable)
        fake.user_says(desk.customer, "I am back")
        await eventually(
            lambda: any(
                "The customer can receive messages again" in (m.text or "")
                for m in desk.topic_messages(topic)
            ),
            what="the reachable-again notice in the topic",
        )
        assert await stored(desk, reachable) == (True, None)
        assert any("I am back" == (m.text or "") for m in desk.topic_messages(topic))
        fake.user_says(desk.ann, "welcome back", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: any("welcome back" == m.text for m in desk.customer_sees()))


async def test_a_block_before_anyone_accepts_is_shown_under_the_card(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "hello?")
        card = await eventually(desk.card)
        fake.block(desk.customer)
        notice = await eventually(
            lambda: [
                m
                for m in fake.chat_view(desk.group_id)
                if "The customer blocked the bot" in (m.text or "")
            ]
        )
        assert notice[0].reply_to == card.message_id


async def test_a_topic_closed_by_hand_is_reopened_for_the_customer(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted_topic(desk)
        async with aiohttp.ClientSession() as http:  # an admin closes the topic in Telegram
            api = str(desk.config.telegram.api_url).rstrip("/")
            async with http.post(
                f"{api}/bot{TOKEN}/closeForumTopic",
                json={"chat_id": desk.group_id, "message_thread_id": topic},
            ) as response:
                assert response.status == 200
        assert [t.closed for t in fake.topics(desk.group_id)] == [True]
        fake.user_says(desk.customer, "still there?")
        await eventually(
            lambda: any("still there?" == (m.text or "") for m in desk.topic_messages(topic)),
            wait=15,
            what="the message in the reopened topic",
        )
        assert [t.closed for t in fake.topics(desk.group_id)] == [False]
        assert len(fake.topics(desk.group_id)) == 1  # the same topic, not a new one
        assert fake.calls("sendMessage", status=400)  # the post did fail on the closed topic
        fake.user_says(desk.ann, "yes, here", chat_id=desk.group_id, topic=topic)
        await eventually(lambda: any("yes, here" == m.text for m in desk.customer_sees()))
