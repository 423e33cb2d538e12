"""VK's Callback API across a restart: event ids live in the database, poison events become
dead letters (answered `ok`), and a database outage is answered 503 so VK delivers again.

The adapter serves its real route against the fake VK's API; its event ids and dead letters
are stored in a real SQLite database through the service's runtime.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.vk.adapter import VkAdapter
from bridge.runtime import Runtime
from sandbox.runner import serving
from sandbox.vk import FakeVK
from tests.adapters.faulty_sink import FaultySink, dead_letters, runtime, sink
from tests.adapters.recording_sink import RecordingSink
from tests.adapters.vk.conftest import GROUP_ID, SECRET

pytestmark = pytest.mark.timeout(60)
__all__ = ["runtime", "sink"]  # fixtures of tests/adapters/faulty_sink.py


def event(kind: str, event_id: str, user: int = 501, **obj: Any) -> dict[str, Any]:
    return {
        "group_id": GROUP_ID,
        "type": kind,
        "event_id": event_id,
        "v": "5.199",
        "secret": SECRET,
        "object": {"user_id": user, **obj},
    }


async def post(url: str, body: dict[str, Any]) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.post(url, data=json.dumps(body)) as response:
        return response.status, await response.text()


@pytest.fixture
def serve(
    fake_vk: FakeVK, make_adapter: Callable[..., VkAdapter], runtime: Runtime
) -> Callable[[], Any]:
    """A running bridge process: a fresh adapter (its memory empty) on the one database."""

    @asynccontextmanager
    async def start() -> AsyncIterator[str]:
        adapter = make_adapter(
            updates="callback", secret=SECRET, confirmation=fake_vk.state.confirmation_code
        )
        assert adapter.callback is not None
        adapter.callback.use_storage(runtime.dead_letters, runtime.transaction)
        await adapter.start()
        app = web.Application()
        app.add_routes(adapter.routes())
        async with serving(app) as running:
            yield f"{running.base_url}/webhooks/vk"
        await adapter.stop()

    return start


async def test_an_event_delivered_again_after_a_restart_changes_nothing(
    sink: RecordingSink, serve: Callable[[], Any]
) -> None:
    deny, allow = event("message_deny", "ev-deny-1"), event("message_allow", "ev-allow-1")
    async with serve() as url:
        assert await post(url, deny) == (200, "ok")
        assert await post(url, allow) == (200, "ok")
    assert [change[2] for change in sink.reachability_changes] == [False, True]
    async with serve() as url:  # the process restarted: nothing of the first one in memory
        # VK delivers the old deny again (at least once): the customer stays reachable.
        assert await post(url, deny) == (200, "ok")
    assert [change[2] for change in sink.reachability_changes] == [False, True]


async def test_a_poison_event_is_kept_answered_ok_and_replayed_after_the_fix(
    sink: FaultySink, serve: Callable[[], Any], runtime: Runtime
) -> None:
    poison = event("message_deny", "ev-poison", user=666)
    async with serve() as url:
        assert await post(url, poison) == (200, "ok")  # VK stops delivering it
        [letter] = await dead_letters(runtime)
        assert (letter.source, letter.key, letter.replayed_at) == ("vk", "ev-poison", None)
        assert letter.error.startswith(
            "ValueError: a handler cannot take this payload of user 666"
        )
        assert SECRET not in letter.payload  # the callback secret is not stored
        assert json.loads(letter.payload)["object"] == {"user_id": 666}
        assert sink.reachability_changes == []
        # The bug is fixed; the admin replays the letter through the same handler.
        sink.broken_user = ""
        await runtime.dead_letters.replayers["vk"](letter.payload)
        assert sink.reachability_changes == [
            ("vk", "666", False, "denied messages from the community")
        ]


async def test_a_database_outage_is_answered_503_and_nothing_is_kept(
    sink: FaultySink, serve: Callable[[], Any], runtime: Runtime
) -> None:
    deny = event("message_deny", "ev-while-down")
    async with serve() as url:
        sink.database_down = True
        status, _ = await post(url, deny)
        assert status == 503  # VK delivers it again
        assert await dead_letters(runtime) == []
        sink.database_down = False
        assert await post(url, deny) == (200, "ok")
    assert [change[2] for change in sink.reachability_changes] == [False]
