"""`POST /webhooks/vk` (Callback API) against the fake VK's real deliveries."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.vk.adapter import VkAdapter
from sandbox.runner import serving
from sandbox.vk import FakeVK
from tests.adapters.recording_sink import RecordingSink
from tests.adapters.vk.conftest import GROUP_ID, SECRET

PAYLOADS = Path(__file__).parent / "payloads"


@pytest.fixture
async def bridge(
    fake_vk: FakeVK, make_adapter: Callable[..., VkAdapter]
) -> AsyncIterator[tuple[VkAdapter, str]]:
    adapter = make_adapter(
        updates="callback", secret=SECRET, confirmation=fake_vk.state.confirmation_code
    )
    await adapter.start()
    app = web.Application()
    app.add_routes(adapter.routes())
    async with serving(app) as running:
        yield adapter, f"{running.base_url}/webhooks/vk"


async def post(url: str, body: bytes | str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=body) as response:
        return response.status, await response.text()


def signed_event(text: str = "hi", event_id: str = "e1") -> dict[str, object]:
    event = json.loads((PAYLOADS / "message_new_text.json").read_text())
    event.update(secret=SECRET, event_id=event_id)
    event["object"]["message"]["text"] = text
    return event


async def test_confirmation_is_answered_with_the_configured_string(
    fake_vk: FakeVK, bridge: tuple[VkAdapter, str]
) -> None:
    assert await fake_vk.set_callback(bridge[1], SECRET) is True


async def test_a_customer_message_is_stored_then_answered_ok(
    fake_vk: FakeVK, sink: RecordingSink, bridge: tuple[VkAdapter, str]
) -> None:
    fake_vk.add_user(601, "Vera", "V")
    await fake_vk.set_callback(bridge[1], SECRET)
    await fake_vk.customer_message(601, "via callback")
    await fake_vk.callbacks.drain()
    assert [e.text for e in sink.inbound_events] == ["via callback"]
    assert sink.inbound_events[0].profile is not None
    [delivery] = [d for d in fake_vk.callbacks.deliveries if d.payload["type"] == "message_new"]
    assert delivery.succeeded and [a.answer for a in delivery.attempts] == ["ok"]


async def test_wrong_or_missing_secret_is_403_and_nothing_is_stored(
    sink: RecordingSink, bridge: tuple[VkAdapter, str]
) -> None:
    wrong = signed_event()
    wrong["secret"] = "guess"
    missing = signed_event()
    del missing["secret"]
    for event in (wrong, missing):
        status, _ = await post(bridge[1], json.dumps(event))
        assert status == 403
    assert sink.stored == 0 and sink.calls == 0


async def test_a_repeated_event_id_is_stored_once(
    sink: RecordingSink, bridge: tuple[VkAdapter, str]
) -> None:
    body = json.dumps(signed_event(event_id="same"))
    assert await post(bridge[1], body) == (200, "ok")
    assert await post(bridge[1], body) == (200, "ok")
    assert len(sink.inbound_events) == 1 and sink.calls == 1


async def test_a_failed_commit_is_not_acknowledged_so_vk_retries(
    fake_vk: FakeVK, sink: RecordingSink, bridge: tuple[VkAdapter, str]
) -> None:
    fake_vk.add_user(602, "Tom", "T")
    await fake_vk.set_callback(bridge[1], SECRET)
    sink.fail_next = 1
    await fake_vk.customer_message(602, "retry me")
    await fake_vk.callbacks.drain()
    [delivery] = [d for d in fake_vk.callbacks.deliveries if d.payload["type"] == "message_new"]
    assert [a.status for a in delivery.attempts] == [503, 200]
    assert delivery.attempts[1].headers.get("X-Retry-Counter") == "1"
    assert [e.text for e in sink.inbound_events] == ["retry me"]


async def test_another_communitys_event_is_refused(
    sink: RecordingSink, bridge: tuple[VkAdapter, str]
) -> None:
    event = signed_event()
    event["group_id"] = GROUP_ID + 1
    status, _ = await post(bridge[1], json.dumps(event))
    assert status == 403 and sink.stored == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


def mutated_events() -> st.SearchStrategy[bytes]:
    """Signed message_new bodies with one field replaced by junk, plus raw junk bytes."""
    paths = [
        ("object",),
        ("object", "message"),
        ("object", "message", "id"),
        ("object", "message", "from_id"),
        ("object", "message", "peer_id"),
        ("object", "message", "text"),
        ("object", "message", "date"),
        ("object", "message", "attachments"),
        ("type",),
        ("group_id",),
    ]

    def build(path: tuple[str, ...], junk: object) -> bytes:
        event = signed_event(event_id=None)
        node = event
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = junk
        return json.dumps(event).encode()

    return st.builds(build, st.sampled_from(paths), json_values) | st.binary(max_size=64)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=mutated_events())
async def test_malformed_bodies_get_4xx_and_never_reach_the_core(
    body: bytes, bridge: tuple[VkAdapter, str], sink: RecordingSink
) -> None:
    before = sink.stored
    status, _ = await post(bridge[1], body)
    if status == 200:  # junk that is still a valid event (e.g. a text that is a string)
        return
    assert 400 <= status < 500
    assert sink.stored == before


async def test_concurrent_messages_of_a_new_customer_share_one_name_lookup(
    fake_vk: FakeVK, sink: RecordingSink, bridge: tuple[VkAdapter, str]
) -> None:
    """users.get is paced (about 20 calls a second per token): while the first message of a
    customer waits for their name, the others go in at once as a guest's, without a lookup of
    their own; once known, the name comes from the cache."""
    import asyncio

    fake_vk.add_user(501, "Ivan", "Petrov")  # the sender of the recorded payload
    fake_vk.faults.add("hang", endpoint="users.get", seconds=10)  # slow: 0.5 s at this scale
    bodies = []
    for k in range(6):
        event = signed_event(text=f"burst {k}", event_id=f"burst{k}")
        event["object"]["message"]["id"] = 9000 + k
        bodies.append(json.dumps(event))
    answers = await asyncio.gather(*(post(bridge[1], body) for body in bodies))
    assert answers == [(200, "ok")] * 6
    assert sorted(e.text for e in sink.inbound_events) == [f"burst {k}" for k in range(6)]
    later = signed_event(text="later", event_id="later")
    later["object"]["message"]["id"] = 9100
    assert await post(bridge[1], json.dumps(later)) == (200, "ok")
    last = sink.inbound_events[-1]
    assert last.profile is not None and last.profile.full_name == "Ivan Petrov"
    assert len(fake_vk.calls.calls("users.get")) == 1
