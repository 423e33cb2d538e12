"""An operator who writes in a brand-new topic before the bridge has heard Telegram's answer
to createForumTopic is not ignored: the message is held until the topic is known."""

from __future__ import annotations

from desk_harness import eventually, running_desk


async def test_a_message_in_a_topic_the_bridge_has_not_stored_yet_reaches_the_customer(
    sqlite_url,
) -> None:
    async with running_desk(sqlite_url) as desk:
        fake = desk.fake
        fake.user_says(desk.customer, "hi")
        card = await eventually(desk.card, what="the card")
        # Telegram makes the topic at once, but its answer reaches the bridge 1.5 s later.
        fake.answer_late_next(method="createForumTopic", seconds=1.5)
        fake.press(desk.ann, desk.group_id, card.message_id, card.callback_data[0])
        topic = (await eventually(lambda: fake.topics(desk.group_id), what="the topic"))[0]
        # Ann sees the topic and writes in it straight away.
        fake.user_says(
            desk.ann, "Hello, how can I help?", chat_id=desk.group_id, topic=topic.thread_id
        )
        seen = await eventually(
            lambda: [m for m in desk.customer_sees() if "how can I help" in (m.text or "")],
            what="Ann's answer at the customer",
        )
        assert seen[0].text == "Hello, how can I help?"
        # The history still follows in the topic.
        await eventually(
            lambda: any(
                (m.text or "").endswith("\nhi") for m in desk.topic_messages(topic.thread_id)
            ),
            what="the history",
        )
