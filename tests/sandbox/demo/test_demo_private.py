"""`talker-bridge demo --mode private` (issue 16): the group keeps the feed and the cards; an
Accept opens the conversation in a topic of the operator's private chat with the bot, which the
demo's state (and page) shows next to the group. Over real HTTP through the real bridge."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from app.demo import DemoRunner

WAIT = 30.0
TIME_SCALE = 20.0


@pytest.fixture
async def demo() -> AsyncIterator[DemoRunner]:
    async with DemoRunner(port=0, time_scale=TIME_SCALE, mode="private") as runner:
        yield runner


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _eventually(probe: Callable[[], Awaitable[Any]], what: str) -> Any:
    deadline = asyncio.get_running_loop().time() + WAIT
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {WAIT}s: {what}")
        await asyncio.sleep(0.1)


async def _post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> Any:
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


async def _state(http: aiohttp.ClientSession, demo: DemoRunner, **query: str) -> dict[str, Any]:
    async with http.get(f"{demo.base_url}/demo/api/state", params=query) as response:
        assert response.status == 200
        return await response.json()


def _texts(chat: dict[str, Any], thread: int | None) -> list[str]:
    return [m["text"] for m in chat["messages"] if m["topic"] == thread]


async def test_accept_opens_the_conversation_in_annas_private_chat_shown_by_the_demo(
    demo: DemoRunner, http: aiohttp.ClientSession
) -> None:
    anna, boris = demo.sandbox.operators
    base = demo.base_url
    status, customer = await _post(
        http, f"{base}/demo/api/customers", {"platform": "telegram", "name": "Paula Private"}
    )
    assert status == 200
    says = f"{base}/demo/api/customers/telegram/{customer['id']}/messages"
    assert (await _post(http, says, {"text": "Is my order packed?"}))[0] == 200

    async def card() -> dict[str, Any] | None:
        group = (await _state(http, demo))["group"]
        return next(
            (m for m in group["messages"] if "Paula Private" in m["text"] and m["buttons"]), None
        )

    found = await _eventually(card, "the card with Accept in the group's feed")
    state = await _state(http, demo)
    assert state["mode"] == "private"
    assert state["private"][str(anna.id)]["topics"] == []  # nothing accepted yet
    press = {
        "operator_id": anna.id,
        "message_id": found["id"],
        "data": found["buttons"][0][0]["callback_data"],
    }
    status, pressed = await _post(http, f"{base}/demo/api/group/presses", press)
    assert status == 200 and "yours" in pressed["answer"]["text"]

    async def private_topic() -> dict[str, Any] | None:
        chat = (await _state(http, demo))["private"][str(anna.id)]
        topic = next((t for t in chat["topics"] if "Paula Private" in t["name"]), None)
        if topic and any("Is my order packed?" in t for t in _texts(chat, topic["thread_id"])):
            return topic
        return None

    topic = await _eventually(private_topic, "the conversation in a topic of Anna's chat")
    thread = topic["thread_id"]
    state = await _state(http, demo)
    assert state["group"]["topics"] == []  # no forum topic: the place is the private chat
    assert state["private"][str(boris.id)]["topics"] == []

    # Anna answers in her private topic: the customer gets it on Telegram.
    reply = {"operator_id": anna.id, "text": "Packed, it ships today", "topic": thread}
    status, _ = await _post(http, f"{base}/demo/api/group/messages", {**reply, "chat": "private"})
    assert status == 200

    async def received() -> bool:
        query = {"platform": "telegram", "customer": customer["id"]}
        lines = (await _state(http, demo, **query))["transcript"]
        return any(line["side"] == "business" and "ships today" in line["text"] for line in lines)

    await _eventually(received, "Anna's reply at the customer")

    # The customer's next message is in Anna's private topic, never in the group.
    assert (await _post(http, says, {"text": "great, thanks"}))[0] == 200

    async def relayed() -> bool:
        chat = (await _state(http, demo))["private"][str(anna.id)]
        return any("great, thanks" in t for t in _texts(chat, thread))

    await _eventually(relayed, "the customer's message in Anna's private topic")
    group = (await _state(http, demo))["group"]
    assert not any("great, thanks" in m["text"] for m in group["messages"])

    # /close in the private topic: the topic is marked done.
    close = {"operator_id": anna.id, "text": "/close", "topic": thread, "chat": "private"}
    assert (await _post(http, f"{base}/demo/api/group/messages", close))[0] == 200

    async def done() -> bool:
        chat = (await _state(http, demo))["private"][str(anna.id)]
        return any(t["thread_id"] == thread and "✅" in t["name"] for t in chat["topics"])

    await _eventually(done, "the private topic marked done")


async def test_unknown_chat_is_refused_with_a_clear_error(
    demo: DemoRunner, http: aiohttp.ClientSession
) -> None:
    anna = demo.sandbox.operators[0]
    body = {"operator_id": anna.id, "text": "hi", "chat": "elsewhere"}
    status, answer = await _post(http, f"{demo.base_url}/demo/api/group/messages", body)
    assert status == 400
    assert "chat must be" in answer["error"]


async def test_private_chat_is_refused_while_the_group_is_in_topics_mode() -> None:
    async with (
        DemoRunner(port=0, time_scale=TIME_SCALE) as runner,
        aiohttp.ClientSession() as http,
    ):
        anna = runner.sandbox.operators[0]
        body = {"operator_id": anna.id, "text": "hi", "chat": "private"}
        status, answer = await _post(http, f"{runner.base_url}/demo/api/group/messages", body)
        assert status == 400 and "private mode" in answer["error"]
        state = await _state(http, runner)
        assert state["mode"] == "topics" and "private" not in state


def test_demo_refuses_an_unknown_mode() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "demo", "--port", "0", "--mode", "replies"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--mode" in result.stderr and "private" in result.stderr
