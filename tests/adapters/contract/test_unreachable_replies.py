"""Replies to a customer who can no longer be reached are kept, marked failed and not sent —
through the real service against the fakes — and flow again once the customer is back.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.models import Message
from tests.adapters.contract.harness import (
    Bridge,
    FacebookCustomer,
    ViberCustomer,
    VkCustomer,
    eventually,
    running_bridge,
)

NOT_SENT = "🚫 Not sent: the customer can no longer be reached"


async def reply_row(bridge: Bridge, text: str) -> Message:
    """The stored operator reply with this text."""
    engine = create_engine(bridge.config.database)
    try:
        async with session_factory(engine)() as session:
            result = await session.exec(select(Message).where(Message.text == text))
            return result.one()
    finally:
        await engine.dispose()


def told(bridge: Bridge, thread: int, wanted: str) -> bool:
    return any(wanted in t for t in bridge.topic_texts(thread))


async def accepted(bridge: Bridge, customer: ViberCustomer | VkCustomer | FacebookCustomer) -> int:
    await customer.says("hello")
    thread = await bridge.accept()
    await eventually(lambda: told(bridge, thread, "hello"), what="the history in the topic")
    return thread


@pytest.mark.parametrize("comes_back", ["writes", "subscribes"])
async def test_a_reply_to_an_unsubscribed_viber_customer_is_not_sent_until_they_come_back(
    sqlite_url: str, comes_back: str
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = ViberCustomer(bridge)
        thread = await accepted(bridge, customer)
        await customer.becomes_unreachable()
        await eventually(
            lambda: told(bridge, thread, "can no longer be reached (unsubscribed"),
            what="the unsubscribe told",
        )

        bridge.operator_says(thread, "Are you there?")
        await eventually(lambda: told(bridge, thread, NOT_SENT), what="the refusal told")
        assert bridge.viber.calls.calls("send_message") == []
        row = await reply_row(bridge, "Are you there?")
        assert row.delivery_state == "failed"
        assert row.delivery_error == (
            "not sent: the customer can no longer be reached (unsubscribed from the bot)"
        )

        if comes_back == "writes":
            await customer.says("I'm back")  # writing subscribes them, without an event
        else:
            await bridge.viber.customer_subscribes(customer.user_id)
        await eventually(
            lambda: told(bridge, thread, "can receive messages again"), what="the return told"
        )
        bridge.operator_says(thread, "Welcome back")
        await eventually(lambda: customer.received_texts() == ["Welcome back"], what="the reply")
        assert len(bridge.viber.calls.calls("send_message")) == 1


async def test_a_vk_customer_who_denied_messages_is_not_written_to_after_a_restart(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = VkCustomer(bridge)
        thread = await accepted(bridge, customer)
        await customer.becomes_unreachable()
        await eventually(
            lambda: told(bridge, thread, "can no longer be reached (denied"),
            what="the deny told",
        )
        await bridge.restart()  # a fresh VkAdapter, whose in-memory denied set is empty

        bridge.operator_says(thread, "Are you there?")
        await eventually(lambda: told(bridge, thread, NOT_SENT), what="the refusal told")
        assert bridge.vk.calls.calls("messages.send") == []
        row = await reply_row(bridge, "Are you there?")
        assert row.delivery_state == "failed"
        assert row.delivery_error == (
            "not sent: the customer can no longer be reached (denied messages from the community)"
        )

        await customer.says("I'm back")  # writing to the community allows its replies
        await eventually(
            lambda: told(bridge, thread, "can receive messages again"), what="the return told"
        )
        bridge.operator_says(thread, "Welcome back")
        await eventually(
            lambda: customer.received_texts() == ["Welcome back"], what="the reply after all"
        )


async def test_a_messenger_customer_who_was_unavailable_gets_replies_again_after_writing(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = FacebookCustomer(bridge)
        thread = await accepted(bridge, customer)
        await customer.becomes_unreachable()  # the Send API answers (#551) from now on
        bridge.operator_says(thread, "Are you there?")
        await eventually(
            lambda: told(bridge, thread, "Not delivered to the customer: Messenger error 551"),
            what="the failure told",
        )
        bridge.operator_says(thread, "Hello?")
        await eventually(lambda: told(bridge, thread, NOT_SENT), what="the refusal told")
        assert customer.received_texts() == []

        bridge.facebook.blocked.discard(customer.user_id)  # available again, and writes
        await customer.says("Sorry, I was away")
        await eventually(
            lambda: told(bridge, thread, "can receive messages again"), what="the return told"
        )
        bridge.operator_says(thread, "Welcome back")
        await eventually(lambda: customer.received_texts() == ["Welcome back"], what="the reply")
