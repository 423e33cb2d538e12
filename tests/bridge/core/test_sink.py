"""The CoreSink over the running service: refusals, delivery receipts, reachability."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bridge.core.sink import BridgeSink, LaterNames
from bridge.events import Inbound
from storage.db import create_engine
from storage.models import Direction, Message
from tests.adapters.contract.harness import ViberCustomer, eventually, running_bridge


def the_sink(bridge) -> BridgeSink:
    names = next(c for c in bridge.service.components if isinstance(c, LaterNames))
    return names.sink


async def reply_state(database: str) -> str:
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(Message.delivery_state).where(Message.direction == Direction.OUT)
            )
            return str(rows.scalars().one())
    finally:
        await engine.dispose()


async def test_an_event_with_an_over_long_id_is_refused_and_stores_nothing(sqlite_url) -> None:
    async with running_bridge(sqlite_url) as bridge:
        sink = the_sink(bridge)
        event = Inbound(channel="vk", chat="5", user="5", external_id="x" * 300, text="hi")
        assert await sink.inbound(event) is False
        off = Inbound(channel="nowhere", chat="5", user="5", external_id="1", text="hi")
        assert await sink.inbound(off) is False
        assert await bridge.stored_messages() == 0


async def test_viber_receipts_move_a_reply_forward_and_never_back(sqlite_url) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = ViberCustomer(bridge)
        await customer.says("hi")
        thread = await bridge.accept()
        bridge.operator_says(thread, "hello from the desk")
        await eventually(lambda: bridge.viber.received(customer.user_id))
        token = int(bridge.viber.received(customer.user_id)[-1]["message_token"])

        async def state_is(wanted: str) -> None:
            for _ in range(100):
                if await reply_state(sqlite_url) == wanted:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"reply never became {wanted}")

        await state_is("sent")
        await bridge.viber.receipt("delivered", customer.user_id, token)
        await state_is("delivered")
        await bridge.viber.receipt("seen", customer.user_id, token)
        await state_is("seen")
        await bridge.viber.receipt("delivered", customer.user_id, token)
        await asyncio.sleep(0.2)
        assert await reply_state(sqlite_url) == "seen"
        await bridge.viber.receipt("failed", customer.user_id, token, "phone lost")
        await state_is("failed")
        await eventually(lambda: any("phone lost" in t for t in bridge.topic_texts(thread)))


async def test_a_customer_who_subscribes_again_is_reported_reachable(sqlite_url) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = ViberCustomer(bridge)
        await customer.says("hi")
        thread = await bridge.accept()
        await bridge.viber.customer_unsubscribes(customer.user_id)
        await eventually(
            lambda: any("can no longer be reached" in t for t in bridge.topic_texts(thread))
        )
        await bridge.viber.customer_subscribes(customer.user_id)
        await eventually(
            lambda: any("receive messages again" in t for t in bridge.topic_texts(thread))
        )
