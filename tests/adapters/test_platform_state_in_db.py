"""What a platform needs to remember lives in the database: a restarted process (a new adapter
on the same database) still resolves Messenger read receipts and still refuses a VK customer
who denied messages (the whole bridge, against the fakes)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, select

from adapters.vk.adapter import VkAdapter
from bridge.errors import RecipientUnreachable
from bridge.events import Outbound
from storage.db import create_engine
from storage.models import Direction, Message
from tests.adapters.contract.harness import (
    Bridge,
    FacebookCustomer,
    VkCustomer,
    eventually,
    running_bridge,
)
from tests.adapters.outbox_rows import reply_row


async def replies(bridge: Bridge) -> list[tuple[str | None, str]]:
    """(text, delivery state) of every operator reply, oldest first."""
    engine = create_engine(bridge.config.database)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(col(Message.text), col(Message.delivery_state))
                .where(Message.direction == Direction.OUT)
                .order_by(col(Message.id))
            )
            return [(text, str(state)) for text, state in rows.all()]
    finally:
        await engine.dispose()


async def wait_state(bridge: Bridge, wanted: list[tuple[str | None, str]], what: str) -> None:
    last: list[tuple[str | None, str]] = []
    for _ in range(600):
        last = await replies(bridge)
        if last == wanted:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {last}")


async def test_a_read_receipt_reaching_a_restarted_process_marks_the_reply_seen(
    db_url: str,
) -> None:
    async with running_bridge(db_url) as bridge:
        customer = FacebookCustomer(bridge)
        await customer.says("where is my order?")
        thread_id = await bridge.accept()
        await eventually(
            lambda: any("where is my order?" in t for t in bridge.topic_texts(thread_id)),
            wait=30,
            what="the conversation's history in its topic",
        )
        bridge.operator_says(thread_id, "It left the warehouse today")
        await eventually(customer.received_texts, wait=30, what="the reply at the customer")
        await wait_state(bridge, [("It left the warehouse today", "sent")], "the reply sent")

        await bridge.restart()  # a new process: a new adapter and sender, the same database
        await bridge.facebook.customer_receipt(customer.user_id, "read")

        await wait_state(bridge, [("It left the warehouse today", "seen")], "the reply seen")


async def test_a_vk_customer_who_denied_messages_stays_refused_after_a_restart(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = VkCustomer(bridge)
        await customer.says("hello")
        thread_id = await bridge.accept()
        await eventually(
            lambda: any("hello" in t for t in bridge.topic_texts(thread_id)),
            wait=30,
            what="the conversation's history in its topic",
        )
        await customer.becomes_unreachable()
        await eventually(
            lambda: any("can no longer be reached" in t for t in bridge.topic_texts(thread_id)),
            what="the operator told the customer denied messages",
        )

        await bridge.restart()
        sends = len(bridge.vk.calls.calls("messages.send"))
        # A reply the outbox held from before the denial, sent by the new process.
        adapter = next(c for c in bridge.service.components if isinstance(c, VkAdapter))
        row = reply_row("vk", Outbound("vk", str(customer.user_id), "queued before"))
        with pytest.raises(RecipientUnreachable, match="denied"):
            await adapter.sender.deliver(row)
        # A new reply of the operator is refused too, where the operator sees it.
        bridge.operator_says(thread_id, "are you there?")
        await eventually(
            lambda: any("Not sent" in t for t in bridge.topic_texts(thread_id)),
            what="the operator told the reply was not sent",
        )
        assert len(bridge.vk.calls.calls("messages.send")) == sends
        assert customer.received_texts() == []
