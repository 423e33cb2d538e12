"""1,000 random malformed payloads per webhook: only 4xx answers, never a 5xx, nothing stored.

The bridge runs (the real service, every channel on) in a thread of its own; hypothesis sends
properly authenticated but malformed bodies — random bytes, random JSON, and genuine event
shapes with a structural field replaced by a value of the wrong kind — to each webhook.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.facebook.fake import signature as fb_signature
from sandbox.viber.fake import sign as viber_sign
from tests.adapters.contract.harness import (
    FB_SECRET,
    ORIGIN,
    TG_SECRET,
    VIBER_TOKEN,
    VK_GROUP,
    VK_SECRET,
    WIDGET,
    Bridge,
    running_bridge,
)

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
#: Never a string: an unknown string where a type name goes is a valid (future) event type.
not_an_object = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
) | st.lists(json_values, max_size=3)

TEMPLATES: dict[str, tuple[dict[str, Any], list[tuple[str, ...]]]] = {
    "vk": (
        {
            "type": "message_new",
            "group_id": VK_GROUP,
            "event_id": "a" * 40,
            "v": "5.199",
            "object": {"message": {"id": 1, "from_id": 5, "peer_id": 5, "text": "x", "date": 1}},
            "secret": VK_SECRET,
        },
        [("object",), ("object", "message"), ("type",)],
    ),
    "viber": (
        {
            "event": "message",
            "timestamp": 1,
            "message_token": 5,
            "sender": {"id": "u1==", "name": "A"},
            "message": {"type": "text", "text": "x"},
        },
        [("sender",), ("message",), ("event",), ("sender", "id")],
    ),
    "facebook": (
        {
            "object": "page",
            "entry": [
                {
                    "id": "1",
                    "time": 1,
                    "messaging": [
                        {"sender": {"id": "9"}, "recipient": {"id": "1"}, "message": {"mid": "m"}}
                    ],
                }
            ],
        },
        [("entry",), ("object",)],
    ),
    "telegram": (
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 5, "type": "private"},
                "from": {"id": 5, "is_bot": False, "first_name": "A"},
                "text": "x",
            },
        },
        [("message",), ("message", "chat")],
    ),
    "site": (
        {"id": "abcdefgh12", "text": "x"},
        [("id",), ("text",)],
    ),
}


def mutated(platform: str) -> st.SearchStrategy[Any]:
    template, paths = TEMPLATES[platform]

    def replace(path: tuple[str, ...], value: Any) -> dict[str, Any]:
        body = json.loads(json.dumps(template))
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        if "event_id" in body:  # a fresh delivery: a repeated event_id is acknowledged as seen
            body["event_id"] = secrets.token_hex(20)
        return body

    return st.builds(replace, st.sampled_from(paths), not_an_object)


def malformed(platform: str) -> st.SearchStrategy[bytes]:
    as_json = (st.dictionaries(st.text(), json_values, max_size=5) | not_an_object).map(
        lambda value: _with_vk_auth(platform, value)
    )
    encoded = (as_json | mutated(platform)).map(lambda v: json.dumps(v).encode())
    return encoded | st.binary(max_size=200)


def _with_vk_auth(platform: str, value: Any) -> Any:
    if platform == "vk" and isinstance(value, dict):
        # VK answers "ok" to event types it does not know (VK would retry otherwise): a
        # malformed event is one whose type is not even a string.
        kind = value.get("type")
        return {**value, "secret": VK_SECRET, "group_id": VK_GROUP, "type": [kind]}
    return value


def is_documented_no_op(platform: str, body: bytes) -> bool:
    """A body that is legal but carries nothing: Meta's empty batch, a bare Telegram Update."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    if not isinstance(data, dict):
        return False
    if platform == "facebook":
        entries = data.get("entry")
        return (
            data.get("object") == "page"
            and isinstance(entries, list)
            and all(isinstance(e, dict) and not e.get("messaging") for e in entries)
        )
    if platform == "telegram":
        # Anything aiogram validates as an Update is acknowledged (Telegram would resend it
        # otherwise); the suite still proves it stored nothing.
        from aiogram.types import Update
        from pydantic import ValidationError

        try:
            Update.model_validate(data)
        except ValidationError:
            return False
        return True
    return False


class LiveBridge:
    """The running bridge on its own event loop, for synchronous hypothesis tests."""

    def __init__(self, database: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.bridge: Bridge | None = None
        self._stop: asyncio.Event | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(database,), daemon=True)
        self.http = requests.Session()
        self.site_token = ""

    def _run(self, database: str) -> None:
        async def main() -> None:
            async with running_bridge(database) as bridge:
                self.bridge, self._stop = bridge, asyncio.Event()
                self.ready.set()
                await self._stop.wait()

        try:
            self.loop.run_until_complete(main())
        except BaseException as exc:  # reported by the fixture
            self.error = exc
            self.ready.set()

    def start(self) -> None:
        self.thread.start()
        self.ready.wait(60)
        if self.error is not None or self.bridge is None:
            raise RuntimeError(f"the bridge did not start: {self.error!r}")
        answer = self.http.post(
            f"{self.bridge.url}/widget/{WIDGET}/visitors", headers={"Origin": ORIGIN}
        )
        self.site_token = answer.json()["token"]

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self.thread.join(60)
        self.http.close()

    def stored(self) -> dict[str, int]:
        """Rows of messages, customers and conversations: a bad payload adds none of them."""
        assert self.bridge is not None
        future = asyncio.run_coroutine_threadsafe(self.bridge.stored_rows(), self.loop)
        return future.result(30)

    def post(self, platform: str, body: bytes) -> int:
        assert self.bridge is not None
        headers: dict[str, str] = {}
        path = f"/webhooks/{platform}"
        if platform == "viber":
            headers["X-Viber-Content-Signature"] = viber_sign(VIBER_TOKEN, body)
        elif platform == "facebook":
            headers["X-Hub-Signature-256"] = fb_signature(FB_SECRET, body)
        elif platform == "telegram":
            headers["X-Telegram-Bot-Api-Secret-Token"] = TG_SECRET
        elif platform == "site":
            path = f"/widget/{WIDGET}/messages"
            headers = {"Origin": ORIGIN, "Authorization": f"Bearer {self.site_token}"}
        headers["Content-Type"] = "application/json"
        return self.http.post(self.bridge.url + path, data=body, headers=headers).status_code


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveBridge]:
    database = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'bridge.db'}"
    bridge = LiveBridge(database)
    bridge.start()
    yield bridge
    bridge.stop()


@pytest.mark.parametrize("platform", list(TEMPLATES))
def test_malformed_payloads_get_only_4xx_and_store_nothing(
    live: LiveBridge, platform: str
) -> None:
    before = live.stored()
    answers: dict[int, int] = {}

    @FUZZ
    @given(body=malformed(platform))
    def post_one(body: bytes) -> None:
        status = live.post(platform, body)
        answers[status] = answers.get(status, 0) + 1
        assert status < 500, (status, body[:300])
        assert 400 <= status or is_documented_no_op(platform, body), (status, body[:300])

    post_one()
    assert live.stored() == before
    assert sum(answers.values()) >= 1000
