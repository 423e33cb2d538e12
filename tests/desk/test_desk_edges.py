"""Counters, failures, replies mode, webhooks, media and topic recovery, end to end."""

from __future__ import annotations

import asyncio

import aiohttp
from desk_harness import SECRET, TOKEN, accept_card, accepted, eventually, running_desk

from storage.db import create_engine, session_factory
from storage.messages import conversation_messages


def dashboard(desk):
    pinned = desk.fake.pinned(desk.group_id)
    shown = [m for m in desk.fake.chat_view(desk.group_id) if m.message_id in pinned]
    return shown[0].text if shown else None


async def test_counters_after_a_scripted_sequence_and_no_429(sqlite_url) -> None:
    async with running_desk(sqlite_url, time_scale=20) as desk:
        fake = desk.fake
        loop = asyncio.get_running_loop()
        started = loop.time()
        customers = [fake.add_user(f"C{i}") for i in range(12)]
        for customer in customers:
            fake.user_says(customer, "hi")
        await eventually(lambda: "Total: !" in (dashboard(desk) or ""), wait=20)
        assert "New in the feed: 12" in dashboard(desk)

        def accept_buttons() -> list[tuple[int, str]]:
            feed = fake.chat_view(desk.group_id)
            return [(m.message_id, data) for m in feed for data in m.callback_data]

        # Every inquiry gets its Accept button: a card each while the budget pays for it, then
        # one digest message for the rest of the burst.
        buttons = await eventually(lambda: len(b := accept_buttons()) == 12 and b, wait=20)
        assert any(
            m.kind == "text" and len(m.callback_data) > 1 for m in fake.chat_view(desk.group_id)
        )
        for message_id, data in buttons[:3]:
            query = fake.press(desk.ann, desk.group_id, message_id, data)
            await eventually(lambda q=query: fake.callback_answer(q))
        await eventually(lambda: "New in the feed: 9" in (dashboard(desk) or ""), wait=20)
        assert "With new messages: 3" in dashboard(desk)  # accepted, nobody answered yet
        topics = await eventually(
            lambda: len(fake.topics(desk.group_id)) == 3 and fake.topics(desk.group_id)
        )
        fake.user_says(desk.ann, "answer", chat_id=desk.group_id, topic=topics[0].thread_id)
        await eventually(lambda: "With new messages: 2" in (dashboard(desk) or ""), wait=20)
        assert "Total: <b>!</b>" not in dashboard(desk) and "Total: !" in dashboard(desk)
        assert fake.too_many_requests.total == 0
        # The dashboard spends at most its share: one edit per debounce interval.
        pinned = fake.pinned(desk.group_id)[0]
        edits = [
            c
            for c in fake.calls("editMessageText")
            if int(c.params.get("message_id", 0)) == pinned
        ]
        interval = 60 / (20 * 20 * 0.1)  # per minute x time_scale x share → 1.5 s
        elapsed = loop.time() - started
        assert 1 <= len(edits) <= elapsed / interval + 1


async def test_a_failed_delivery_shows_in_place_and_marks_the_message(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann, "hi")
        # The customer blocked the bot, but the bridge has not heard of it yet: the send
        # itself is refused, as Telegram refuses it.
        fake.fail_next(1, 403, "sendMessage", "Forbidden: bot was blocked by the user")
        fake.user_says(desk.ann, "are you there?", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: any(
                "Not delivered to the customer" in (m.text or "")
                for m in desk.topic_messages(topic)
            )
        )
        engine = create_engine(desk.db)
        async with session_factory(engine)() as session:
            out = [m for m in await conversation_messages(session, 1) if m.direction == "out"]
        await engine.dispose()
        assert out[0].delivery_state == "failed" and "blocked" in out[0].delivery_error


async def test_a_reply_to_a_customer_known_to_have_blocked_the_bot_is_not_sent(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann, "hi")
        fake.block(desk.customer)  # Telegram tells the bridge (my_chat_member)
        await eventually(
            lambda: any("blocked" in (m.text or "") for m in desk.topic_messages(topic))
        )
        sends_before = len(fake.calls("sendMessage"))
        fake.user_says(desk.ann, "are you there?", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: any("Not sent" in (m.text or "") for m in desk.topic_messages(topic))
        )
        to_customer = [
            c
            for c in fake.calls("sendMessage")[sends_before:]
            if str(c.params.get("chat_id")) == str(desk.customer.id)
        ]
        assert to_customer == []
        engine = create_engine(desk.db)
        async with session_factory(engine)() as session:
            out = [m for m in await conversation_messages(session, 1) if m.direction == "out"]
        await engine.dispose()
        assert out[0].delivery_state == "failed" and "reached" in out[0].delivery_error


async def test_replies_mode_posts_in_the_group_and_relays_a_reply(sqlite_url) -> None:
    async with running_desk(sqlite_url, mode="replies") as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "plain group please")
        await accept_card(desk, desk.ann, await eventually(desk.card))
        copy = await eventually(
            lambda: [
                m
                for m in fake.chat_view(desk.group_id)
                if m.kind == "text" and "plain group" in (m.text or "")
            ]
        )
        # The history goes as one post: the header, then the customer's message under their name.
        assert copy[0].text.startswith("💬 Иван <b>Петров</b> · Telegram · #1")
        assert "\n\nИван <b>Петров</b> · " in copy[0].text
        fake.user_says(
            desk.ann, "answer by reply", chat_id=desk.group_id, reply_to=copy[0].message_id
        )
        fake.user_says(
            desk.bob, "a note by reply", chat_id=desk.group_id, reply_to=copy[0].message_id
        )
        await eventually(
            lambda: any("answer by reply" in (m.text or "") for m in desk.customer_sees())
        )
        await asyncio.sleep(0.4)
        assert not any("a note" in (m.text or "") for m in desk.customer_sees())


async def test_webhook_checks_the_secret_and_stores_nothing_on_a_wrong_one(sqlite_url) -> None:
    async with running_desk(sqlite_url, updates="webhook") as desk:
        update = {
            "update_id": 900,
            "message": {
                "message_id": 5,
                "date": 1700000000,
                "chat": {"id": 777, "type": "private", "first_name": "Web"},
                "from": {"id": 777, "is_bot": False, "first_name": "Web"},
                "text": "via webhook",
            },
        }
        url = desk.base_url + "/webhooks/telegram"
        async with aiohttp.ClientSession() as http:
            for secret in (None, "wrong"):
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 403
            await asyncio.sleep(0.3)
            assert not [m for m in desk.fake.chat_view(desk.group_id) if m.kind == "photo"]
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            for _ in range(2):  # a redelivered update has its effects once
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 200
        card = await eventually(desk.card)
        assert "via webhook" in card.caption
        await asyncio.sleep(0.3)
        assert len([m for m in desk.fake.chat_view(desk.group_id) if m.kind == "photo"]) == 1


async def test_media_both_ways_and_a_deleted_topic_is_replaced(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann, "hi")
        fake.user_sends_photo(desk.customer, caption="my <receipt>")
        fake.user_sends_location(desk.customer, 55.75, 37.61)
        shown = await eventually(
            lambda: [
                m
                for m in fake.chat_view(desk.group_id, topic=topic)
                if m.kind in ("photo", "location")
            ]
        )
        await eventually(
            lambda: (
                len(
                    [
                        m
                        for m in fake.chat_view(desk.group_id, topic=topic)
                        if m.kind in ("photo", "location")
                    ]
                )
                == 2
            )
        )
        assert any(m.caption == "my <receipt>" for m in shown)
        fake.user_sends_document(
            desk.ann,
            b"invoice",
            "invoice.pdf",
            caption="your invoice",
            chat_id=desk.group_id,
            topic=topic,
        )
        await eventually(lambda: any(m.kind == "document" for m in desk.customer_sees()))
        async with aiohttp.ClientSession() as http:
            api = str(desk.config.telegram.api_url).rstrip("/")
            async with http.post(
                f"{api}/bot{TOKEN}/deleteForumTopic",
                json={"chat_id": desk.group_id, "message_thread_id": topic},
            ) as response:
                assert response.status == 200
        fake.user_says(desk.customer, "after the topic was deleted")
        fresh = await eventually(
            lambda: [t for t in fake.topics(desk.group_id) if not t.deleted], wait=15
        )
        await eventually(
            lambda: any(
                "after the topic was deleted" in (m.text or "")
                for m in fake.chat_view(desk.group_id, topic=fresh[0].thread_id)
            )
        )


async def test_a_message_arriving_during_acceptance_is_not_lost(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "one")
        card = await eventually(desk.card)
        fake.press(desk.ann, desk.group_id, card.message_id, card.callback_data[0])
        for word in ("two", "three", "four"):
            fake.user_says(desk.customer, word)
        topic = (await eventually(lambda: fake.topics(desk.group_id)))[0].thread_id

        def shown() -> str:
            return "\n".join(m.text or "" for m in fake.chat_view(desk.group_id, topic=topic))

        await eventually(lambda: all(w in shown() for w in ("one", "two", "three", "four")))
        assert all(shown().count(w) == 1 for w in ("two", "three", "four"))


async def test_private_ping_and_a_customer_edit_shown_in_the_topic(sqlite_url) -> None:
    async with running_desk(sqlite_url, notify_private=True) as desk:
        fake = desk.fake
        fake.user_says(desk.bob, "/start")
        await asyncio.sleep(0.3)
        fake.user_says(desk.customer, "ping me")
        await eventually(
            lambda: any(
                "New conversation #1" in (m.text or "") for m in fake.chat_view(desk.bob.id)
            )
        )
        await accept_card(desk, desk.ann, await eventually(desk.card))
        topic = (await eventually(lambda: fake.topics(desk.group_id)))[0].thread_id
        sent = fake.user_says(desk.customer, "typo")
        await eventually(lambda: any("typo" in (m.text or "") for m in desk.topic_messages(topic)))
        fake.user_edits(desk.customer, desk.customer.id, sent["message_id"], "fixed text")
        notice = await eventually(
            lambda: [
                m
                for m in desk.topic_messages(topic)
                if "The customer edited a message:\nfixed text" in (m.text or "")
            ]
        )
        # The notice answers the relayed copy, so the operator sees which message changed.
        copy = next(m for m in desk.topic_messages(topic) if "typo" in (m.text or ""))
        assert notice[0].reply_to == copy.message_id


async def test_a_private_ping_goes_only_to_operators_of_the_inquirys_group(sqlite_url) -> None:
    async with running_desk(sqlite_url, notify_private=True, other_groups=("sales",)) as desk:
        fake = desk.fake
        sam = fake.add_user("Sam", "Sales", username="sam")  # an operator of "sales" only
        fake.join(sam, desk.other_groups["sales"])
        fake.user_says(desk.bob, "/start")
        fake.user_says(sam, "/start")
        await asyncio.sleep(0.3)
        fake.user_says(desk.customer, "ping the support team")
        await eventually(
            lambda: any(
                "New conversation #1" in (m.text or "") for m in fake.chat_view(desk.bob.id)
            )
        )
        await asyncio.sleep(0.3)
        assert not any("New conversation" in (m.text or "") for m in fake.chat_view(sam.id))


async def test_concurrent_webhooks_are_stored_by_their_200_in_each_customers_order_once(
    sqlite_url,
) -> None:
    from sqlmodel import select

    from storage.models import Conversation, Customer, Message

    def update(update_id: int, user: int, seq: int) -> dict:
        person = {"id": user, "first_name": f"Web{user}"}
        return {
            "update_id": update_id,
            "message": {
                "message_id": seq + 1,
                "date": 1700000000,
                "chat": {**person, "type": "private"},
                "from": {**person, "is_bot": False},
                "text": f"u{user} m{seq}",
            },
        }

    users = [800 + i for i in range(6)]
    async with running_desk(sqlite_url, updates="webhook") as desk:
        url = desk.base_url + "/webhooks/telegram"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        statuses: list[int] = []
        async with aiohttp.ClientSession() as http:

            async def post(body: dict) -> None:
                async with http.post(url, json=body, headers=headers) as response:
                    statuses.append(response.status)

            async def customer(index: int, user: int) -> None:
                # Telegram delivers one chat's updates in order; all chats at once.
                for seq in range(8):
                    body = update(1000 + seq * 10 + index, user, seq)
                    if seq == 3:  # a redelivery racing the first copy
                        await asyncio.gather(post(body), post(body))
                    else:
                        await post(body)

            await asyncio.gather(*(customer(i, user) for i, user in enumerate(users)))
        assert statuses == [200] * (len(users) * 9)
        # Every 200 came after its commit: the database has them all, without waiting.
        engine = create_engine(sqlite_url)
        try:
            async with session_factory(engine)() as session:
                rows = (
                    await session.exec(
                        select(Customer.external_id, Message.text)
                        .select_from(Message)
                        .join(Conversation, Conversation.id == Message.conversation_id)
                        .join(Customer, Customer.id == Conversation.customer_id)
                        .order_by(Message.id)
                    )
                ).all()
        finally:
            await engine.dispose()
        for user in users:
            assert [text for who, text in rows if who == str(user)] == [
                f"u{user} m{seq}" for seq in range(8)
            ]

        def shown() -> bool:  # each new customer on a card or in a digest of the feed
            posts = " ".join(
                (m.caption or "") + (m.text or "") for m in desk.fake.chat_view(desk.group_id)
            )
            return all(f"Web{user}" in posts for user in users)

        await eventually(shown, wait=20)


async def test_with_telegram_customers_off_the_desk_runs_and_ignores_private_messages(
    sqlite_url,
) -> None:
    from sqlalchemy import func
    from sqlmodel import select

    from storage.models import Message

    viber_only = {"viber": {"group": "support", "token": "t0ken-for-viber", "name": "Shop"}}
    async with running_desk(sqlite_url, channels=viber_only) as desk:
        desk.fake.user_says(desk.customer, "anyone there?")
        await asyncio.sleep(1.0)
        shown = desk.fake.chat_view(desk.group_id)  # the dashboard, and no card
        assert not [m for m in shown if m.kind == "photo"]
        assert not any("anyone there" in (m.text or "") + (m.caption or "") for m in shown)
        engine = create_engine(sqlite_url)
        try:
            async with session_factory(engine)() as session:
                count = (await session.exec(select(func.count()).select_from(Message))).one()
        finally:
            await engine.dispose()
        assert count == 0
