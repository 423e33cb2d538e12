"""Ratings (issue 15) on every channel, through the real service against the fakes.

After /close with `close.rating: true` the customer gets the question with their platform's
own controls (Telegram inline keyboard, VK inline keyboard, Viber keyboard, Messenger quick
replies, the widget's stars), presses 4, and the rating is stored, shown in the conversation's
place and thanked; the next text is kept as the rating's comment instead of opening a new
conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.adapters.contract.harness import (
    CUSTOMERS,
    Bridge,
    Customer,
    SiteCustomer,
    running_bridge,
)

PLATFORMS = list(CUSTOMERS)
RATING_ON = {"close": {"rating": True}}
STARS = ["★", "★★", "★★★", "★★★★", "★★★★★"]
ASK = "How did we do? Please rate our help from 1 to 5."


async def until(check: Callable[[], Awaitable[Any]], what: str, wait: float = 20.0) -> Any:
    """Wait until the coroutine `check()` gives something truthy (and return it), or fail."""
    deadline = asyncio.get_running_loop().time() + wait
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: last={last!r}")


async def texts_of(customer: Customer) -> list[str]:
    """Every text the customer was sent (the widget: every message pushed to the visitor)."""
    if isinstance(customer, SiteCustomer):
        return [m["text"] for m in await customer.pushed() if m["from"] == "operator"]
    return customer.received_texts()


async def choices_of(customer: Customer) -> list[str]:
    if isinstance(customer, SiteCustomer):
        return [c["label"] for c in await customer.offered_choices_async()]
    return customer.offered_choices()


async def got(customer: Customer, wanted: str) -> list[str]:
    async def check() -> list[str] | None:
        texts = await texts_of(customer)
        return texts if any(wanted in t for t in texts) else None

    return await until(check, f"{customer.channel} customer to get {wanted!r}")


async def conversations(bridge: Bridge) -> list[Any]:
    """Every conversation row, oldest first."""
    from sqlalchemy import select

    from storage.db import create_engine
    from storage.models import Conversation

    engine = create_engine(bridge.config.database)
    try:
        async with engine.connect() as connection:
            query = select(Conversation).order_by(Conversation.id)  # type: ignore[arg-type]
            return list((await connection.execute(query)).all())
    finally:
        await engine.dispose()


async def rated(bridge: Bridge, index: int = 0) -> Any:
    async def check() -> Any:
        rows = await conversations(bridge)
        return rows[index] if len(rows) > index and rows[index].rating else None

    return await until(check, "a stored rating")


async def start_and_close(bridge: Bridge, customer: Customer, first: str) -> int:
    """The customer writes, Ann accepts and closes; returns the place's thread id once the
    rating request reached the customer."""
    topics = len(bridge.telegram.topics(bridge.group_id))
    await customer.says(first)
    thread = await bridge.accept()
    if topics:  # a second customer: Bridge.accept may answer before the new topic exists
        await until(lambda: _more_topics(bridge, topics), "the new customer's topic")
        thread = bridge.telegram.topics(bridge.group_id)[-1].thread_id
    await in_place(bridge, thread, first)  # the history is in: the bridge knows its place
    bridge.operator_says(thread, "Sorted, anything else?")
    await got(customer, "Sorted, anything else?")
    bridge.operator_says(thread, "/close")
    await got(customer, ASK)
    return thread


async def _more_topics(bridge: Bridge, than: int) -> bool:
    return len(bridge.telegram.topics(bridge.group_id)) > than


async def in_place(bridge: Bridge, thread: int, wanted: str) -> None:
    async def check() -> bool:
        return any(wanted in t for t in bridge.topic_texts(thread))

    await until(check, f"{wanted!r} in the conversation's place")


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_customer_rates_with_their_platforms_controls_and_adds_a_comment(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url, changes=RATING_ON) as bridge:
        customer = CUSTOMERS[platform](bridge)
        thread = await start_and_close(bridge, customer, "My parcel is late")
        assert await until(lambda: choices_of(customer), "the stars") == STARS

        await customer.rate(4)

        row = await rated(bridge)
        assert (row.rating, row.rating_comment) == (4, None)
        await got(customer, "Thank you for your rating (★★★★☆ 4/5)!")
        await in_place(bridge, thread, f"rated conversation #{row.id}: ★★★★☆ 4/5")

        await customer.says("Quick and kind, thanks")

        await got(customer, "Thank you, we have passed your comment on.")
        await in_place(bridge, thread, f"comment on conversation #{row.id}: Quick and kind")
        rows = await conversations(bridge)
        assert len(rows) == 1, "the comment opened no new conversation"
        assert (rows[0].rating, rows[0].rating_comment) == (4, "Quick and kind, thanks")
        # Neither the press nor the comment became a card in the feed.
        assert len(bridge.cards()) == 1
        # The topic was reopened for the notices only: it ends closed, as the conversation.
        await until(lambda: _topic_closed(bridge, thread), "the topic closed again")


async def _topic_closed(bridge: Bridge, thread: int) -> bool:
    await asyncio.sleep(0.2)
    return all(t.closed for t in bridge.telegram.topics(bridge.group_id) if t.thread_id == thread)


@pytest.mark.parametrize("platform", ["telegram", "vk"])
async def test_one_rating_per_conversation_a_second_press_changes_nothing(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url, changes=RATING_ON) as bridge:
        customer = CUSTOMERS[platform](bridge)
        await start_and_close(bridge, customer, "Where is my order?")
        await customer.rate(2)
        await rated(bridge)
        await got(customer, "(★★☆☆☆ 2/5)")

        await customer.rate(5)
        await asyncio.sleep(0.5)

        rows = await conversations(bridge)
        assert [r.rating for r in rows] == [2]
        thanks = [t for t in await texts_of(customer) if t.startswith("Thank you for your rating")]
        assert len(thanks) == 1


async def test_telegram_press_is_answered_and_is_not_a_message(sqlite_url: str) -> None:
    async with running_bridge(sqlite_url, changes=RATING_ON) as bridge:
        customer = CUSTOMERS["telegram"](bridge)
        await start_and_close(bridge, customer, "Hello")
        before = await bridge.stored_messages()
        await customer.rate(5)
        await rated(bridge)
        assert customer.presses
        answer = await until(lambda: _answer(bridge, customer.presses[-1]), "answerCallbackQuery")
        assert answer["show_alert"] is False
        assert await bridge.stored_messages() == before


async def _answer(bridge: Bridge, query_id: str) -> Any:
    return bridge.telegram.callback_answer(query_id)


@pytest.mark.parametrize("platform", ["telegram", "facebook", "site"])
async def test_a_late_press_after_the_customer_wrote_again_is_recorded(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url, changes=RATING_ON) as bridge:
        customer = CUSTOMERS[platform](bridge)
        thread = await start_and_close(bridge, customer, "First question")
        labels = await until(lambda: choices_of(customer), "the stars")
        assert labels == STARS
        await customer.says("Another question, a new one")
        await until(lambda: _count(bridge, 2), "the second conversation")

        await customer.rate(3)

        row = await rated(bridge, 0)
        assert row.rating == 3
        rows = await conversations(bridge)
        assert len(rows) == 2 and rows[1].rating is None and rows[1].state != "closed"
        await in_place(bridge, thread, f"rated conversation #{row.id}: ★★★☆☆ 3/5")
        await got(customer, "(★★★☆☆ 3/5)")


async def _count(bridge: Bridge, wanted: int) -> bool:
    return len(await conversations(bridge)) >= wanted


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_forged_press_for_another_customers_conversation_changes_nothing(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url, changes=RATING_ON) as bridge:
        victim = CUSTOMERS["telegram"](bridge, name="Olga Ivanova")
        await start_and_close(bridge, victim, "Victim's question")
        victim_conversation = (await conversations(bridge))[0].id
        forger = CUSTOMERS[platform](bridge, name="Eve Forger")
        await start_and_close(bridge, forger, "Forger's question")

        # The forger's own star, its payload rewritten to name the victim's conversation.
        await forger.press_forged(f"rate:{victim_conversation}:1")
        await asyncio.sleep(0.7)

        rows = await conversations(bridge)
        assert [r.rating for r in rows] == [None, None]
        assert not any("Thank you for your rating" in t for t in await texts_of(forger))
        assert len(rows) == 2, "a forged press opens nothing"


async def test_no_rating_request_by_default(sqlite_url: str) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = CUSTOMERS["telegram"](bridge)
        await customer.says("Hello")
        thread = await bridge.accept()
        bridge.operator_says(thread, "/close")
        await got(customer, "closed")
        await asyncio.sleep(0.5)
        assert ASK not in customer.received_texts()
        assert customer.offered_choices() == []
        # A "4" after the close is a new message, not a rating.
        await customer.says("4")
        await until(lambda: _count(bridge, 2), "a new conversation")
        assert [r.rating for r in await conversations(bridge)] == [None, None]


async def test_a_rating_on_postgresql(pg_url: str) -> None:
    async with running_bridge(pg_url, changes=RATING_ON) as bridge:
        customer = CUSTOMERS["vk"](bridge)
        await start_and_close(bridge, customer, "On PostgreSQL")
        await customer.rate(5)
        row = await rated(bridge)
        assert row.rating == 5 and row.rated_at is not None
