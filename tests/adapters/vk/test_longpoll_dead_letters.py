"""VK's Bots Long Poll with dead letters: a poison event is kept and the dialog goes on; a
database outage holds the ts until the event is stored (nothing skipped)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import pytest

from adapters.vk.adapter import VkAdapter
from bridge.runtime import Runtime
from sandbox.vk import FakeVK
from tests.adapters.faulty_sink import FaultySink, dead_letters, runtime, sink

pytestmark = pytest.mark.timeout(60)
__all__ = ["runtime", "sink"]  # fixtures of tests/adapters/faulty_sink.py


def _texts(sink: FaultySink) -> list[str | None]:
    return [event.text for event in sink.inbound_events]


async def test_a_poison_event_is_kept_and_the_next_messages_arrive(
    fake_vk: FakeVK, sink: FaultySink, make_adapter: Callable[..., VkAdapter], runtime: Runtime
) -> None:
    fake_vk.add_user(501, "Ivan", "Petrov")
    adapter = make_adapter()
    assert adapter.poller is not None
    adapter.poller.use_dead_letters(runtime.dead_letters, "vk")
    await adapter.start()
    try:
        await fake_vk.customer_message(501, "a poison message")
        await fake_vk.customer_message(501, "Where is my order?")
        await sink.wait_for(lambda s: "Where is my order?" in _texts(s))
        [letter] = await dead_letters(runtime)
        assert letter.source == "vk"
        assert letter.error.startswith("ValueError: a handler cannot take this payload")
        assert json.loads(letter.payload)["object"]["message"]["text"] == "a poison message"
        # The bug is fixed; the admin replays the letter through the same handler.
        sink.poison = ""
        await runtime.dead_letters.replayers["vk"](letter.payload)
        assert "a poison message" in _texts(sink)
    finally:
        await adapter.stop()


async def test_a_database_outage_holds_the_event_until_it_is_stored(
    fake_vk: FakeVK, sink: FaultySink, make_adapter: Callable[..., VkAdapter], runtime: Runtime
) -> None:
    fake_vk.add_user(502, "Olga", "S")
    adapter = make_adapter()
    assert adapter.poller is not None
    adapter.poller.use_dead_letters(runtime.dead_letters, "vk")
    await adapter.start()
    try:
        sink.database_down = True
        await fake_vk.customer_message(502, "sent while the database restarts")
        await asyncio.sleep(1.5)  # several tries, each refused
        assert adapter.state().state == "degraded"
        sink.database_down = False
        await sink.wait_for(lambda s: "sent while the database restarts" in _texts(s))
        assert await dead_letters(runtime) == []
    finally:
        await adapter.stop()
