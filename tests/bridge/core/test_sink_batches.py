"""The sink's batched entry point (Telegram customers) keeps the sink's rules: `check_event`
refuses what the core cannot store, a customer who writes is reachable again, a guest's name is
looked up later. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bridge.core.sink import BridgeSink
from bridge.core.sink_batches import InboundBatches
from bridge.core.texts import text
from bridge.events import CustomerProfile, Inbound
from storage.customers import find_customer, set_customer_reachable
from storage.models import Message, ProcessedEvent
from tests.bridge.core.core_fakes import FakeDesk

ANN = CustomerProfile(first_name="Ann", language="en")


class Config:
    """The three things the sink reads of the config (no group has working hours)."""

    language = "en"
    groups: dict[str, Any] = {}  # noqa: RUF012

    def group_name_for_channel(self, channel: str) -> str:
        if channel != "telegram":
            raise KeyError(channel)
        return "support"


@dataclass
class Runtime:
    """`SinkRuntime` over a real database and a fake desk."""

    sessions: Any
    config: Config = field(default_factory=Config)
    desk: FakeDesk = field(default_factory=FakeDesk)
    woken: int = 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        async with self.sessions() as session, session.begin():
            yield session
        self.wake()

    def wake(self) -> None:
        self.woken += 1


class Lookups:
    """A platform that can look a guest's name up (never answers within the test)."""

    async def lookup_profile(self, user: str) -> CustomerProfile | None:
        await asyncio.sleep(3600)
        return None


def said(external_id: str, body: str, *, user: str = "501", **kw: Any) -> Inbound:
    return Inbound(
        channel="telegram",
        chat=user,
        user=user,
        external_id=external_id,
        text=body,
        profile=kw.pop("profile", ANN),
        **kw,
    )


@asynccontextmanager
async def batches(sessions: Any) -> AsyncIterator[tuple[InboundBatches, Runtime]]:
    runtime = Runtime(sessions)
    sink = BridgeSink(runtime)
    intake = InboundBatches(sink, "telegram")
    await intake.start()
    await sink.names.start()
    try:
        yield intake, runtime
    finally:
        await intake.stop()
        await sink.names.stop()


async def count(sessions: Any, table: Any) -> int:
    async with sessions() as session:
        return (await session.exec(select(func.count()).select_from(table))).one()


async def test_events_check_event_refuses_are_not_stored_nor_marked_processed(
    sessions: Any,
) -> None:
    async with batches(sessions) as (intake, _):
        assert await intake.inbound(said("x" * 300, "too long an id"), 1) is False
        assert await intake.inbound(said("501:1", "nobody", user=" "), 2) is False
        off = Inbound(channel="nowhere", chat="1", user="1", external_id="1", text="hi")
        assert await intake.inbound(off, 3) is False
        assert await intake.inbound(said("501:2", "fine"), 4) is True
    assert await count(sessions, Message) == 1
    assert await count(sessions, ProcessedEvent) == 1


async def test_an_unreachable_customer_who_writes_is_reachable_again(sessions: Any) -> None:
    async with batches(sessions) as (intake, runtime):
        assert await intake.inbound(said("501:1", "hello"), 1) is True
        async with runtime.transaction() as session:
            customer = await find_customer(session, "telegram", "501")
            assert customer is not None and customer.id is not None
            await set_customer_reachable(session, customer.id, False, "bot was blocked")
        runtime.desk.calls.clear()
        # Known, unchanged, with an open conversation: the batch's quick path stores it.
        results = await asyncio.gather(
            intake.inbound(said("501:2", "I am back"), 2),
            intake.inbound(said("501:3", "and again"), 3),
        )
        assert results == [True, True]
        async with sessions() as session:
            customer = await find_customer(session, "telegram", "501")
            assert customer is not None
            assert (customer.reachable, customer.unreachable_reason) == (True, None)
    notices = [html for name, html in runtime.desk.calls if name == "notice"]
    assert notices == [text("en", "place.customer_reachable")]


async def test_a_repeated_update_is_stored_once_and_an_edit_does_not_make_reachable(
    sessions: Any,
) -> None:
    async with batches(sessions) as (intake, runtime):
        assert await intake.inbound(said("501:1", "hello"), 1) is True
        assert await intake.inbound(said("501:1", "hello"), 1) is False
        async with runtime.transaction() as session:
            customer = await find_customer(session, "telegram", "501")
            assert customer is not None and customer.id is not None
            await set_customer_reachable(session, customer.id, False, "bot was blocked")
        edit = said("501:1:edit:1", "hello!", edit_of="501:1")
        assert await intake.inbound(edit, 2) is True
        async with sessions() as session:
            customer = await find_customer(session, "telegram", "501")
            assert customer is not None and customer.reachable is False
    assert await count(sessions, Message) == 1


async def test_a_guests_name_is_looked_up_later(sessions: Any) -> None:
    async with batches(sessions) as (intake, _):
        sink = intake.sink
        sink.names.register("telegram", Lookups())
        nameless = said("502:1", "hi", user="502", profile=None)
        assert await intake.inbound(nameless, 1) is True
        assert sink.names.pending() == 1
        named = said("501:1", "hi", user="501")
        assert await intake.inbound(named, 2) is True
        assert sink.names.pending() == 1
