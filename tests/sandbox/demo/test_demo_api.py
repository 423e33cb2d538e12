"""The demo's JSON API over real HTTP: a customer's message (Telegram, VK, Viber, Facebook)
reaches the operators' group through the real bridge, an operator accepts and answers, the
customer receives it in the demo's simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.demo import DemoRunner, demo_config
from desk.dashboard import Dashboards
from sandbox.demo.settings import BOT_NAME, GROUP, WIDGET_ID
from sandbox.server import SANDBOX_TELEGRAM_TOKEN

WAIT = 30.0
TIME_SCALE = 20.0  # Telegram's pacing 20x faster, so a whole flow takes seconds


@pytest.fixture
async def demo() -> AsyncIterator[DemoRunner]:
    async with DemoRunner(port=0, time_scale=TIME_SCALE) as runner:
        yield runner


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _json(response: aiohttp.ClientResponse) -> Any:
    async with response:
        return response.status, await response.json()


async def _eventually(probe: Callable[[], Awaitable[Any]], what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {WAIT}s: {what}")
        await asyncio.sleep(0.1)


async def _state(http: aiohttp.ClientSession, demo: DemoRunner, **query: str) -> dict[str, Any]:
    status, body = await _json(await http.get(f"{demo.base_url}/demo/api/state", params=query))
    assert status == 200
    return body


async def test_page_is_served_with_the_widget_tag(demo: DemoRunner, http) -> None:
    async with http.get(demo.url) as response:
        assert response.status == 200
        html = await response.text()
    assert '<script src="/widget/demo.js" async></script>' in html
    async with http.get(f"{demo.base_url}/demo/static/format.js") as response:
        assert response.status == 200


async def _new_customer(
    http: aiohttp.ClientSession, demo: DemoRunner, platform: str, name: str
) -> dict[str, Any]:
    body = {"platform": platform, "name": name}
    status, customer = await _json(
        await http.post(f"{demo.base_url}/demo/api/customers", json=body)
    )
    assert status == 200 and customer["name"] == name
    return customer


async def _customer_says(
    http: aiohttp.ClientSession, demo: DemoRunner, customer: dict[str, Any], text: str
) -> None:
    path = f"/demo/api/customers/{customer['platform']}/{customer['id']}/messages"
    status, body = await _json(await http.post(demo.base_url + path, json={"text": text}))
    assert status == 200, body


async def _card(http: aiohttp.ClientSession, demo: DemoRunner, name: str) -> dict[str, Any]:
    async def card() -> dict[str, Any] | None:
        group = (await _state(http, demo))["group"]
        return next((m for m in group["messages"] if name in m["text"] and m["buttons"]), None)

    return await _eventually(card, f"a card with a button for {name}")


async def _accept(
    http: aiohttp.ClientSession, demo: DemoRunner, card: dict[str, Any], name: str
) -> int:
    """Anna presses Accept on the card; the thread id of the customer's topic."""
    anna = demo.sandbox.operators[0]
    press = {
        "operator_id": anna.id,
        "message_id": card["id"],
        "data": card["buttons"][0][0]["callback_data"],
    }
    status, pressed = await _json(
        await http.post(f"{demo.base_url}/demo/api/group/presses", json=press)
    )
    assert status == 200 and pressed["answer"] is not None

    async def topic() -> dict[str, Any] | None:
        topics = (await _state(http, demo))["group"]["topics"]
        return next((t for t in topics if name in t["name"]), None)

    return (await _eventually(topic, f"a topic for {name}"))["thread_id"]


async def _anna_replies(
    http: aiohttp.ClientSession, demo: DemoRunner, thread_id: int, text: str
) -> None:
    reply = {"operator_id": demo.sandbox.operators[0].id, "text": text, "topic": thread_id}
    status, _ = await _json(
        await http.post(f"{demo.base_url}/demo/api/group/messages", json=reply)
    )
    assert status == 200


async def _received(
    http: aiohttp.ClientSession, demo: DemoRunner, customer: dict[str, Any], text: str
) -> list[dict[str, Any]]:
    """The lines of the customer's chat in the simulator where the business wrote `text`."""

    async def received() -> list[dict[str, Any]]:
        query = {"platform": customer["platform"], "customer": customer["id"]}
        lines = (await _state(http, demo, **query))["transcript"]
        return [line for line in lines if line["side"] == "business" and text in line["text"]]

    return await _eventually(received, f"Anna's reply at the {customer['platform']} customer")


async def test_customer_message_becomes_a_card_then_the_reply_reaches_the_customer(
    demo: DemoRunner, http: aiohttp.ClientSession
) -> None:
    customer = await _new_customer(http, demo, "telegram", "Nina Q")
    await _customer_says(http, demo, customer, "Where is <b>my</b> order?")

    found = await _card(http, demo, "Nina Q")
    assert found["topic"] is None  # the General topic: the Incoming feed
    assert "Where is <b>my</b> order?" in found["text"]  # the customer's text, as text
    assert any(e["type"] == "bold" for e in found["entities"])  # the bot's own formatting
    async with http.get(demo.base_url + found["photo"]) as response:
        assert response.status == 200
        assert response.content_type == "image/png"
        assert (await response.read()).startswith(b"\x89PNG")

    thread_id = await _accept(http, demo, found, "Nina Q")
    await _anna_replies(http, demo, thread_id, "It ships today")
    await _received(http, demo, customer, "ships")


@pytest.mark.parametrize(
    ("platform", "name"),
    [("vk", "Vlad Kovalev"), ("viber", "Vika Bondar"), ("facebook", "Fiona Banks")],
)
async def test_a_simulated_customer_of_each_platform_is_answered_through_the_bridge(
    demo: DemoRunner, http: aiohttp.ClientSession, platform: str, name: str
) -> None:
    customer = await _new_customer(http, demo, platform, name)
    question = f"Is my {platform} order on its way?"
    await _customer_says(http, demo, customer, question)
    query = {"platform": platform, "customer": customer["id"]}
    lines = (await _state(http, demo, **query))["transcript"]
    # The demo opens closed for a minute: the offline answer may already be there too.
    said = [(line["side"], line["text"]) for line in lines if line["side"] == "customer"]
    assert said == [("customer", question)]

    card = await _card(http, demo, name)
    assert question in card["text"]
    thread_id = await _accept(http, demo, card, name)
    answer = f"Yes, {name.split()[0]}, it left the warehouse"
    await _anna_replies(http, demo, thread_id, answer)

    (line,) = await _received(http, demo, customer, answer)
    assert line["kind"] == "text"
    transcript = (await _state(http, demo, **query))["transcript"]
    in_order = [(e["side"], e["text"]) for e in transcript if e["text"] in (question, answer)]
    assert in_order == [("customer", question), ("business", answer)]


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/demo/api/customers", {"platform": "icq", "name": "X"}, "unknown platform"),
        ("/demo/api/customers", {"platform": "vk", "name": "  "}, "give the customer a name"),
        ("/demo/api/customers/vk/1/messages", {"text": "hi"}, "no vk customer 1"),
        ("/demo/api/group/messages", {"operator_id": 1, "text": "hi"}, "not one of"),
        ("/demo/api/group/messages", {"text": "hi"}, "operator_id must be a number"),
        (
            "/demo/api/group/presses",
            {"operator_id": 100002, "message_id": 999, "data": "x"},
            "no message 999",
        ),
    ],
)
async def test_bad_requests_get_a_clear_error(
    demo: DemoRunner, http: aiohttp.ClientSession, path: str, body: dict, error: str
) -> None:
    status, answer = await _json(await http.post(demo.base_url + path, json=body))
    assert status == 400
    assert error in answer["error"]


async def test_body_that_is_not_json_is_refused(demo: DemoRunner, http) -> None:
    async with http.post(f"{demo.base_url}/demo/api/customers", data=b"{nope") as response:
        assert response.status == 400
        assert "JSON object" in (await response.json())["error"]


async def test_the_page_has_an_svg_favicon(demo: DemoRunner, http) -> None:
    async with http.get(demo.url) as response:
        assert '<link rel="icon" href="/demo/static/favicon.svg"' in await response.text()
    async with http.get(f"{demo.base_url}/demo/static/favicon.svg") as response:
        assert response.status == 200
        assert response.content_type == "image/svg+xml"
        assert (await response.text()).startswith("<svg")


async def test_one_name_for_the_bot_the_community_the_page_and_the_widget(
    demo: DemoRunner, http
) -> None:
    assert demo.sandbox is not None
    state = await _state(http, demo)
    sandbox = demo.sandbox
    assert state["bot"]["name"] == BOT_NAME
    assert sandbox.telegram.world.bots[SANDBOX_TELEGRAM_TOKEN].user.full_name == BOT_NAME
    assert sandbox.vk.group_name == sandbox.facebook.page_name == BOT_NAME
    config = demo_config(
        fakes_url="http://fakes", bridge_url=demo.base_url, group_chat_id=-1, folder=Path(".")
    )
    assert config.channels.viber is not None and config.channels.viber.name == BOT_NAME
    assert config.channels.site is not None
    assert config.channels.site.widgets[WIDGET_ID].title == BOT_NAME


async def test_the_pace_is_the_bridges_own(demo: DemoRunner, http) -> None:
    """The page is told the group's posts a minute and the dashboards' refresh interval that
    the running bridge uses (Telegram's 20 a minute times the time scale; a tenth of it)."""
    assert demo.service is not None
    dashboards = next(c for c in demo.service.components if isinstance(c, Dashboards))
    pace = (await _state(http, demo))["pace"]
    assert pace == {"per_minute": 20 * TIME_SCALE, "counters_every": dashboards.intervals[GROUP]}
    assert pace["counters_every"] == 60 / (20 * TIME_SCALE * 0.1)


async def test_a_guests_topic_is_marked(demo: DemoRunner, http) -> None:
    """A customer whose name is unknown is a guest ("Guest N"): their topic is marked (the page
    draws its icon grey, like their avatar); a named customer's is not."""
    assert demo.sandbox is not None
    named = await _new_customer(http, demo, "vk", "Vasilisa Named")
    await _customer_says(http, demo, named, "I have a name")
    demo.sandbox.vk.add_user(500999, "", "")  # a profile without a name
    await demo.sandbox.vk.customer_message(500999, "I have none")
    await _accept(http, demo, await _card(http, demo, "Vasilisa Named"), "Vasilisa Named")
    await _accept(http, demo, await _card(http, demo, "I have none"), "Guest")

    async def marked() -> dict[str, bool] | None:
        topics = (await _state(http, demo))["group"]["topics"]
        found = {t["name"]: t["guest"] for t in topics}
        return found if any(found.values()) else None

    found = await _eventually(marked, "a guest's topic")
    assert [guest for name, guest in found.items() if "Guest" in name] == [True], found
    assert [guest for name, guest in found.items() if "Vasilisa" in name] == [False], found


async def test_unknown_file_is_404(demo: DemoRunner, http) -> None:
    async with http.get(f"{demo.base_url}/demo/api/files/nope") as response:
        assert response.status == 404


async def test_every_channel_is_listed_with_its_state(demo: DemoRunner, http) -> None:
    channels = (await _state(http, demo))["channels"]
    assert set(channels) == {"telegram", "vk", "viber", "facebook", "site:demo"}
    assert channels["telegram"]["state"] == "running"


async def test_stop_deletes_the_temporary_database() -> None:
    runner = DemoRunner(port=0)
    await runner.start()
    folder = runner._folder
    assert folder is not None and (folder / "demo.db").exists()
    await runner.stop()
    assert not folder.exists()
