"""Issue 16 §3: every channel's intake stores through a group commit and the set-based batch
path, as Telegram webhooks do: concurrent deliveries share commits (the committer counts fewer
commits than messages), nothing is lost, nothing is stored twice, and each platform is answered
only after its messages are committed.

The whole bridge (`running_bridge`, every channel on) against the fakes; the figures are read
from the group commits the service runs (`InboundBatches.committer.stats`) and the database.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import time
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from botapi.updates import UpdatesIntake
from bridge.core.sink_batches import InboundBatches
from sandbox.facebook.fake import signature
from sandbox.viber.fake import sign
from storage.db import create_engine
from storage.models import DeadLetter, Message, ProcessedEvent
from tests.adapters.contract.harness import (
    FB_SECRET,
    VIBER_TOKEN,
    VK_SECRET,
    WIDGET,
    Bridge,
    SiteCustomer,
    running_bridge,
)

pytestmark = pytest.mark.timeout(120)

CUSTOMERS = 8
EACH = 5  # messages per customer after the first (which opens the conversation)


def ingest_of(bridge: Bridge) -> InboundBatches:
    """The group commit every channel but Telegram's customers stores through."""
    found = [c for c in bridge.service.components if isinstance(c, InboundBatches)]
    assert len(found) == 1, found
    return found[0]


def telegram_batches(bridge: Bridge) -> InboundBatches:
    intake = next(c for c in bridge.service.components if isinstance(c, UpdatesIntake))
    return next(p for p in intake._parts if isinstance(p, InboundBatches))


async def scalar_rows(bridge: Bridge, query: Any) -> list[Any]:
    engine = create_engine(bridge.config.database)
    try:
        async with engine.connect() as connection:
            return list((await connection.execute(query)).scalars())
    finally:
        await engine.dispose()


async def stored_texts(bridge: Bridge, channel: str) -> list[str]:
    query = select(Message.text).where(Message.channel == channel)  # type: ignore[arg-type]
    return sorted(str(text) for text in await scalar_rows(bridge, query))


async def processed(bridge: Bridge, source: str) -> int:
    query = select(func.count()).select_from(ProcessedEvent)
    [count] = await scalar_rows(bridge, query.where(ProcessedEvent.source == source))  # type: ignore[arg-type]
    return int(count)


def expected(tag: str) -> list[str]:
    return sorted(
        [f"{tag} {c} first" for c in range(CUSTOMERS)]
        + [f"{tag} {c}/{k}" for c in range(CUSTOMERS) for k in range(EACH)]
    )


async def wait_stored(bridge: Bridge, channel: str, want: list[str]) -> None:
    deadline = time.monotonic() + 30
    while (got := await stored_texts(bridge, channel)) != want:
        if time.monotonic() > deadline:
            raise AssertionError(f"{channel}: stored {got}, wanted {want}")
        await asyncio.sleep(0.1)


def assert_shared_commits(batches: InboundBatches, at_least: int) -> None:
    assert batches.committer is not None
    stats = batches.committer.stats
    assert stats.events >= at_least, stats
    assert stats.batches < stats.events, f"every message had a commit of its own: {stats}"
    assert stats.largest_batch > 1, stats


# ---- VK: the Callback API and Bots Long Poll ---------------------------------------------------


async def vk_customers_write(bridge: Bridge) -> None:
    users = [601 + c for c in range(CUSTOMERS)]
    for c, user in enumerate(users):
        bridge.vk.add_user(user, "Vk", f"Customer{c}")
    await asyncio.gather(
        *(bridge.vk.customer_message(u, f"vk {c} first") for c, u in enumerate(users))
    )
    await asyncio.gather(
        *(
            bridge.vk.customer_message(u, f"vk {c}/{k}")
            for k in range(EACH)
            for c, u in enumerate(users)
        )
    )


async def test_vk_callbacks_share_commits_and_record_their_event_ids_with_the_messages(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        await vk_customers_write(bridge)
        want = expected("vk")
        await wait_stored(bridge, "vk", want)
        assert_shared_commits(ingest_of(bridge), len(want))
        # each event id was recorded in its message's own transaction (no commit of its own)
        assert await processed(bridge, "vk:event") == len(want)

        # the same messages delivered again, at once: under their event ids and under new ones
        messages = list(bridge.vk.state.messages.values())[:4]
        bodies = []
        for message in messages:
            for event_id in ("r" + secrets.token_hex(19), "r" + secrets.token_hex(19)):
                bodies.append(
                    {
                        "type": "message_new",
                        "group_id": bridge.vk.group_id,
                        "event_id": event_id,
                        "v": "5.199",
                        "object": {"message": message, "client_info": {}},
                        "secret": VK_SECRET,
                    }
                )
        bodies += bodies  # every delivery twice, concurrently
        statuses = await asyncio.gather(
            *(post(bridge, "/webhooks/vk", json.dumps(b).encode(), {}) for b in bodies)
        )
        assert set(statuses) == {200}
        assert await stored_texts(bridge, "vk") == want


async def test_vk_long_poll_answers_are_stored_as_batches(sqlite_url: str) -> None:
    async with running_bridge(sqlite_url, vk_updates="longpoll") as bridge:
        await vk_customers_write(bridge)
        want = expected("vk")
        await wait_stored(bridge, "vk", want)
        assert_shared_commits(ingest_of(bridge), len(want))


# ---- Viber, Facebook, the widget -------------------------------------------------------------


async def test_viber_callbacks_share_commits(sqlite_url: str) -> None:
    async with running_bridge(sqlite_url) as bridge:
        users = [bridge.viber.add_user(name=f"Viber Customer{c}") for c in range(CUSTOMERS)]
        firsts = await asyncio.gather(
            *(bridge.viber.customer_message(u, f"viber {c} first") for c, u in enumerate(users))
        )
        rest = await asyncio.gather(
            *(
                bridge.viber.customer_message(u, f"viber {c}/{k}")
                for k in range(EACH)
                for c, u in enumerate(users)
            )
        )
        # acknowledged only once committed: every message is in the database when answered
        assert all(d.succeeded for d in [*firsts, *rest])
        want = expected("viber")
        assert await stored_texts(bridge, "viber") == want
        assert_shared_commits(ingest_of(bridge), len(want))
        # redelivered at once: nothing stored twice
        again = [d.body for d in rest[:6]] * 2
        statuses = await asyncio.gather(
            *(
                post(
                    bridge,
                    "/webhooks/viber",
                    body,
                    {"X-Viber-Content-Signature": sign(VIBER_TOKEN, body)},
                )
                for body in again
            )
        )
        assert set(statuses) == {200}
        assert await stored_texts(bridge, "viber") == want


def facebook_body(bridge: Bridge, messages: list[tuple[str, str]]) -> bytes:
    """One webhook body with an entry per (psid, text), as Meta batches them."""
    entries = [
        {
            "id": "page",
            "time": int(time.time() * 1000),
            "messaging": [
                {
                    "sender": {"id": psid},
                    "recipient": {"id": bridge.facebook.page_id},
                    "timestamp": int(time.time() * 1000),
                    "message": {"mid": f"m_{secrets.token_urlsafe(16)}", "text": text},
                }
            ],
        }
        for psid, text in messages
    ]
    return json.dumps({"object": "page", "entry": entries}).encode()


async def test_facebook_bodies_with_many_entries_are_stored_in_shared_commits(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        users = [
            bridge.facebook.add_user(first_name="Fb", last_name=f"Customer{c}")
            for c in range(CUSTOMERS)
        ]
        # one body with every customer's first message, then one body per round, at once
        bodies = [facebook_body(bridge, [(u, f"facebook {c} first") for c, u in enumerate(users)])]
        assert await post_facebook(bridge, bodies[0]) == 200
        assert len(await stored_texts(bridge, "facebook")) == CUSTOMERS  # answered once stored
        rounds = [
            facebook_body(bridge, [(u, f"facebook {c}/{k}") for c, u in enumerate(users)])
            for k in range(EACH)
        ]
        statuses = await asyncio.gather(*(post_facebook(bridge, b) for b in rounds + rounds))
        assert set(statuses) == {200}
        want = expected("facebook")
        assert await stored_texts(bridge, "facebook") == want
        batches = ingest_of(bridge)
        assert_shared_commits(batches, len(want))
        assert batches.committer is not None
        assert batches.committer.stats.largest_batch >= CUSTOMERS  # a body's entries together


async def post_facebook(bridge: Bridge, body: bytes) -> int:
    return await post(
        bridge, "/webhooks/facebook", body, {"X-Hub-Signature-256": signature(FB_SECRET, body)}
    )


async def test_widget_messages_share_commits(sqlite_url: str) -> None:
    async with running_bridge(sqlite_url) as bridge:
        visitors = [SiteCustomer(bridge, name=f"Site Visitor{c}") for c in range(CUSTOMERS)]
        await asyncio.gather(*(v.says(f"site {c} first") for c, v in enumerate(visitors)))
        await asyncio.gather(
            *(v.says(f"site {c}/{k}") for k in range(EACH) for c, v in enumerate(visitors))
        )
        want = expected("site")
        assert await stored_texts(bridge, visitors[0].channel) == want
        assert_shared_commits(ingest_of(bridge), len(want))
        statuses = await asyncio.gather(*(v.redeliver_last() for v in visitors for _ in range(2)))
        assert set(statuses) == {200}
        assert await stored_texts(bridge, visitors[0].channel) == want


async def test_the_widget_answers_each_stored_message_as_its_history_shows_it(
    sqlite_url: str,
) -> None:
    """The answer to a visitor's POST is made without reading the message back (the core says
    which message it stored); it is the same message the visitor's history then shows, and a
    retried POST answers the stored one again, as a duplicate."""
    async with running_bridge(sqlite_url) as bridge:
        visitor = SiteCustomer(bridge, name="Site Answer")
        await visitor.says("first, opens the conversation")
        png = io.BytesIO()
        Image.new("RGB", (8, 8), "blue").save(png, "PNG")
        upload = f"{bridge.url}/widget/{WIDGET}/uploads"
        headers = {**visitor._headers(), "Content-Type": "image/png", "X-File-Name": "dot.png"}
        async with bridge.http.post(upload, data=png.getvalue(), headers=headers) as response:
            file_id = (await response.json())["file"]["id"]
        url = f"{bridge.url}/widget/{WIDGET}/messages"
        answers = []
        for k in range(3):
            body = {"id": f"answer{k:04d}", "text": f"  said {k}  ", "name": visitor.name}
            if k == 1:
                body["files"] = [file_id]
            async with bridge.http.post(url, json=body, headers=visitor._headers()) as response:
                assert response.status == 200
                answers.append(await response.json())
        async with bridge.http.post(url, json=body, headers=visitor._headers()) as response:
            again = await response.json()
        history = await visitor._history()
        by_id = {message["id"]: message for message in history}
        assert [answer["duplicate"] for answer in answers] == [False, False, False]
        assert [answer["message"] for answer in answers] == [
            by_id[answer["message"]["id"]] for answer in answers
        ]
        assert [answer["message"]["text"] for answer in answers] == ["said 0", "said 1", "said 2"]
        assert again == {"message": answers[-1]["message"], "duplicate": True}
        assert history[-3:] == [answer["message"] for answer in answers]
        photo = answers[1]["message"]["attachments"]
        assert [(a["kind"], a["name"], "url" in a) for a in photo] == [("photo", "dot.png", True)]


# ---- Telegram polling --------------------------------------------------------------------------


async def test_telegram_polled_updates_share_commits(sqlite_url: str) -> None:
    changes = {"telegram": {"updates": "polling"}}
    async with running_bridge(sqlite_url, changes=changes) as bridge:
        users = [bridge.telegram.add_user("Tg", f"Customer{c}") for c in range(CUSTOMERS)]
        for c, user in enumerate(users):
            bridge.telegram.user_says(user, f"telegram {c} first")
        for k in range(EACH):
            for c, user in enumerate(users):
                bridge.telegram.user_says(user, f"telegram {c}/{k}")
        want = expected("telegram")
        await wait_stored(bridge, "telegram", want)
        assert_shared_commits(telegram_batches(bridge), len(want))


async def post(bridge: Bridge, path: str, body: bytes, headers: dict[str, str]) -> int:
    async with bridge.http.post(bridge.url + path, data=body, headers=headers) as response:
        await response.read()
        return response.status


async def test_a_poison_message_among_concurrent_ones_is_kept_and_the_others_stored(
    pg_url: str,
) -> None:
    """PostgreSQL refuses a NUL in a text: that message fails its batch, every message is then
    stored alone, and only the poison one ends as a dead letter (answered 200)."""
    async with running_bridge(pg_url) as bridge:
        users = [bridge.viber.add_user(name=f"Viber Customer{c}") for c in range(CUSTOMERS)]
        await asyncio.gather(
            *(bridge.viber.customer_message(u, f"viber {c} first") for c, u in enumerate(users))
        )
        texts = [f"viber {c}/0" for c in range(CUSTOMERS)]
        texts[3] = "poison \x00 text"
        deliveries = await asyncio.gather(
            *(bridge.viber.customer_message(u, t) for u, t in zip(users, texts, strict=True))
        )
        assert all(d.succeeded for d in deliveries)
        stored = await stored_texts(bridge, "viber")
        assert stored == sorted(
            [f"viber {c} first" for c in range(CUSTOMERS)] + [t for t in texts if "\x00" not in t]
        )
        kept = await scalar_rows(bridge, select(DeadLetter.source))
        assert kept == ["viber"]
        [payload] = await scalar_rows(bridge, select(DeadLetter.payload))
        assert "poison" in payload
