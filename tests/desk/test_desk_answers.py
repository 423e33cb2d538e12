"""What operators are told, end to end: edits of captions, quiet hints, /my, alerts, retries."""

from __future__ import annotations

import asyncio

from desk_harness import accepted, eventually, running_desk

from desk.callbacks import TransferCallback
from storage.conversations import open_conversation
from storage.customers import upsert_customer
from storage.db import create_engine, session_factory


async def waiting_in(desk, group: str, count: int) -> None:
    """`count` new conversations of VK customers in `group`, straight into the database."""
    engine = create_engine(desk.db)
    async with session_factory(engine)() as session:
        for i in range(count):
            customer = await upsert_customer(session, "vk", f"{group}{i}", f"{group}{i}", "C")
            await open_conversation(session, customer, group)
        await session.commit()
    await engine.dispose()


async def test_a_customers_caption_edit_shows_the_new_caption_and_the_photo_once(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        sent = fake.user_sends_photo(desk.customer, caption="my recept")
        photo = await eventually(
            lambda: [m for m in fake.chat_view(desk.group_id, topic=topic) if m.kind == "photo"]
        )
        assert photo[0].caption == "my recept"
        fake.user_edits(desk.customer, desk.customer.id, sent["message_id"], "my receipt")
        await eventually(
            lambda: any(
                "The customer edited a message:\nmy receipt" in (m.text or "")
                for m in desk.topic_messages(topic)
            )
        )
        # The caption came once, under the photo, not again as a text of its own.
        assert not any("my recept" in (m.text or "") for m in desk.topic_messages(topic))


async def test_the_note_hint_is_posted_without_a_notification_sound(sqlite_url) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.bob, "checking the order", chat_id=desk.group_id, topic=topic)
        await eventually(
            lambda: any("internal notes" in (m.text or "") for m in desk.topic_messages(topic))
        )
        hints = [
            c for c in fake.calls("sendMessage") if "internal notes" in c.params.get("text", "")
        ]
        # The call log keeps the parameters as they went over HTTP.
        assert [str(c.params.get("disable_notification")).lower() for c in hints] == ["true"]


async def test_my_counts_the_callers_groups_only_and_shows_the_total_like_the_dashboard(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url, other_groups=("sales",)) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "hello?")
        await eventually(desk.card)
        await waiting_in(desk, "sales", 9)
        fake.user_says(desk.ann, "/my", chat_id=desk.group_id)
        in_group = await eventually(
            lambda: [
                m.text
                for m in fake.chat_view(desk.group_id)
                if "Waiting in the feed" in (m.text or "")
            ]
        )
        assert "Waiting in the feed: 1 · yours with new messages: 0 · total: 1" in in_group[0]
        fake.user_says(desk.ann, "/my")  # privately: both of Ann's groups, 1 + 9 waiting
        in_private = await eventually(
            lambda: [
                m.text
                for m in fake.chat_view(desk.ann.id)
                if "Waiting in the feed" in (m.text or "")
            ]
        )
        assert "Waiting in the feed: 10 · yours with new messages: 0 · total: !" in in_private[0]


async def test_the_transfer_alert_shows_the_new_operators_name_as_written(sqlite_url) -> None:
    async with running_desk(sqlite_url, operators_list=True) as desk:
        fake = desk.fake
        desk.bob.first_name = "Bob & <Co>"
        topic = await accepted(desk, desk.ann)
        fake.user_says(desk.bob, "looking", chat_id=desk.group_id, topic=topic)  # now known
        fake.user_says(desk.ann, "/transfer", chat_id=desk.group_id, topic=topic)
        offer = await eventually(
            lambda: [m for m in desk.topic_messages(topic) if m.callback_data]
        )
        data = TransferCallback(conversation=1, operator=desk.bob.id).pack()
        query = fake.press(desk.ann, desk.group_id, offer[0].message_id, data)
        answer = await eventually(lambda: fake.callback_answer(query))
        assert answer["text"] == "Transferred to Bob & <Co> Operator."
        # The notice in the topic is HTML: there the name stays escaped, and reads the same.
        await eventually(
            lambda: any(
                "transferred from Ann Operator to Bob & <Co> Operator" in (m.text or "")
                for m in desk.topic_messages(topic)
            )
        )


async def test_a_press_whose_first_answer_failed_is_answered_when_the_update_is_retried(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "hi")
        card = await eventually(desk.card)
        fake.fail_next(1, status=500, method="answerCallbackQuery")
        query = fake.press(desk.ann, desk.group_id, card.message_id, card.callback_data[0])
        answer = await eventually(lambda: fake.callback_answer(query), what="an answer")
        assert answer["text"] == "The conversation is yours."
        await eventually(lambda: "Accepted by Ann Operator" in desk.card().caption)
        await asyncio.sleep(0.3)
        assert len(fake.topics(desk.group_id)) == 1  # accepted once
