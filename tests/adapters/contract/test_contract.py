"""One contract, every customer platform: the same scenarios over Telegram, VK, Viber, Facebook
and the site widget, through the real service (`build_service`) against the fakes.

Each scenario is a plain coroutine of (bridge, customer) listed in `CONTRACT`, so that a platform
defined elsewhere (the toy platform of test_toy_platform.py) runs the very same scenarios.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.adapters.contract.harness import (
    CUSTOMERS,
    Bridge,
    Customer,
    SiteCustomer,
    eventually,
    running_bridge,
)

PLATFORMS = list(CUSTOMERS)


async def texts_of(customer: Customer) -> list[str]:
    if isinstance(customer, SiteCustomer):
        return await customer.received_texts_async()
    return customer.received_texts()


async def wait_texts(customer: Customer, wanted: str) -> list[str]:
    deadline = asyncio.get_running_loop().time() + 10
    seen: list[str] = []
    while asyncio.get_running_loop().time() < deadline:
        seen = await texts_of(customer)
        if any(wanted in t for t in seen):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"{customer.channel} customer never got {wanted!r}; got {seen!r}")


async def site_images(customer: SiteCustomer) -> int:
    """Operators' photos in the visitor's history whose link serves the image to the widget."""
    shown = 0
    for message in await customer._history():
        for attachment in message["attachments"] if message["from"] == "operator" else []:
            if attachment["kind"] != "photo" or "url" not in attachment:
                continue
            url = customer.bridge.url + attachment["url"]
            async with customer.bridge.http.get(url, headers=customer._headers()) as response:
                body = await response.read()
            if response.status == 200 and response.content_type.startswith("image/") and body:
                shown += 1
    return shown


async def wait_media(customer: Customer) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        if isinstance(customer, SiteCustomer):
            if await site_images(customer) >= 1:
                return
        elif customer.received_media() >= 1:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the operator's photo never reached the {customer.channel} customer")


# ---- the scenarios ----------------------------------------------------------------------------


async def text_in_card_accept_reply_text_out(bridge: Bridge, customer: Customer) -> None:
    await customer.says("Where is my order?")
    card = await eventually(bridge.card, what="the card")
    assert "Where is my order?" in card.caption
    assert "Maria Lopez" in card.caption
    thread = await bridge.accept()
    await eventually(
        lambda: any("Where is my order?" in t for t in bridge.topic_texts(thread)),
        what="the history in the topic",
    )
    bridge.operator_says(thread, "It ships today.")
    await wait_texts(customer, "It ships today.")
    await customer.says("Thanks!")
    await eventually(lambda: any("Thanks!" in t for t in bridge.topic_texts(thread)))


async def media_in_reaches_the_topic_and_an_operators_photo_reaches_the_customer(
    bridge: Bridge, customer: Customer
) -> None:
    await customer.says("Look at this")
    await customer.sends_photo()
    thread = await bridge.accept()

    def photo_in_topic() -> bool:
        view = bridge.telegram.chat_view(bridge.group_id, topic=thread)
        return any(m.kind == "photo" for m in view)

    await eventually(photo_in_topic, what="the customer's photo in the topic")
    bridge.operator_sends_photo(thread)
    await wait_media(customer)


async def a_duplicate_delivery_is_ignored(bridge: Bridge, customer: Customer) -> None:
    await customer.says("only once")
    await eventually(bridge.card)
    before = await bridge.stored_messages()
    status = await customer.redeliver_last()
    assert status == 200
    await asyncio.sleep(0.3)
    assert await bridge.stored_messages() == before
    assert len(bridge.cards()) == 1
    assert bridge.card().caption.count("only once") == 1


async def a_forged_delivery_is_rejected_and_nothing_stored(
    bridge: Bridge, customer: Customer
) -> None:
    await customer.says("genuine")
    await eventually(bridge.card)
    before = await bridge.stored_messages()
    assert await customer.forged() in (401, 403)
    await asyncio.sleep(0.2)
    assert await bridge.stored_messages() == before


async def a_customer_who_can_no_longer_be_reached_is_reported_to_the_operator(
    bridge: Bridge, customer: Customer
) -> None:
    await customer.says("hello")
    thread = await bridge.accept()
    await eventually(lambda: any("hello" in t for t in bridge.topic_texts(thread)))
    await customer.becomes_unreachable()
    bridge.operator_says(thread, "Are you there?")

    def reported() -> bool:
        texts = bridge.topic_texts(thread)
        return any("can no longer be reached" in t or "Not delivered" in t for t in texts)

    await eventually(reported, what="the operator told")
    assert not any("Are you there?" in t for t in customer.received_texts())


CONTRACT = (
    text_in_card_accept_reply_text_out,
    media_in_reaches_the_topic_and_an_operators_photo_reaches_the_customer,
    a_duplicate_delivery_is_ignored,
    a_forged_delivery_is_rejected_and_nothing_stored,
    a_customer_who_can_no_longer_be_reached_is_reported_to_the_operator,
)
"""Every scenario a customer platform must pass (the unreachable one only where a customer
can become unreachable: `Customer.can_be_unreachable`)."""


# ---- over every registered platform -----------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_text_in_card_accept_reply_text_out(sqlite_url: str, platform: str) -> None:
    async with running_bridge(sqlite_url) as bridge:
        await text_in_card_accept_reply_text_out(bridge, CUSTOMERS[platform](bridge))


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_media_in_reaches_the_topic_and_an_operators_photo_reaches_the_customer(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = CUSTOMERS[platform](bridge)
        await media_in_reaches_the_topic_and_an_operators_photo_reaches_the_customer(
            bridge, customer
        )


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_duplicate_delivery_is_ignored(sqlite_url: str, platform: str) -> None:
    async with running_bridge(sqlite_url) as bridge:
        await a_duplicate_delivery_is_ignored(bridge, CUSTOMERS[platform](bridge))


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_a_forged_delivery_is_rejected_and_nothing_stored(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        await a_forged_delivery_is_rejected_and_nothing_stored(bridge, CUSTOMERS[platform](bridge))


@pytest.mark.parametrize("platform", [p for p in PLATFORMS if p != "site"])
async def test_a_customer_who_can_no_longer_be_reached_is_reported_to_the_operator(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = CUSTOMERS[platform](bridge)
        await a_customer_who_can_no_longer_be_reached_is_reported_to_the_operator(bridge, customer)


GREY = (0x6B, 0x72, 0x80)


@pytest.mark.parametrize("platform", ["vk", "facebook"])
async def test_a_name_resolved_later_updates_the_card_and_colours_the_avatar(
    sqlite_url: str, platform: str
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = CUSTOMERS[platform](bridge)
        if platform == "vk":
            bridge.vk.faults.add("error", endpoint="users.get", error={"code": 10})
        else:
            bridge.facebook.faults.add("http500", endpoint="profile")
        await customer.says("who am I?")
        card = await eventually(bridge.card, what="the guest's card")
        assert "Guest" in card.caption
        assert bridge.card_colour() == GREY
        await eventually(lambda: "Maria Lopez" in bridge.card().caption, what="the name")
        assert bridge.card_colour() != GREY
        assert len(bridge.cards()) == 1  # the guest's card was replaced, not doubled
        assert bridge.card().callback_data  # still waiting for Accept
        thread = await bridge.accept()
        topic = bridge.telegram.topics(bridge.group_id)[-1]
        assert topic.thread_id == thread and "Maria Lopez" in topic.name
