"""The ingest and memory scenarios of bench/relay.py.

ingest: Telegram webhooks (`POST /webhooks/telegram`, the real service, answered 200 only after
the commit) from many customers at once; messages durably stored per second, on SQLite and on
PostgreSQL. Then the same core path in this process without HTTP: one transaction per message,
the group commit with a SAVEPOINT per message, and the group commit with the set-based batch
path (`bridge/core/inbound_batch.py`, what the service runs for Telegram customers).

memory: 10,000 customers each open a conversation (stored through the real core and desk, so
10,000 cards wait in the outbox), then the bridge starts on that database and runs while a few
hundred more messages arrive; its resident memory is sampled from /proc (issue 16: a peak of at
most 120 MB).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench._harness import Fakes

WEBHOOK_SECRET = "bench-secret"


def telegram_update(update_id: int, user: Any, message_id: int, text: str) -> dict[str, Any]:
    """A private text message to the bot, shaped like Telegram's webhook body."""
    person = {"id": user.id, "is_bot": False, "first_name": user.first_name}
    if user.last_name:
        person["last_name"] = user.last_name
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {**{k: v for k, v in person.items() if k != "is_bot"}, "type": "private"},
            "from": person,
            "text": text,
        },
    }


async def analyze(database_url: str) -> None:
    """PostgreSQL's ANALYZE: statistics for the rows the warm-up wrote, as a database that
    has run a while has them (autovacuum would, later); the planner otherwise plans for
    empty tables and the first timed phases measure that."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def count_messages(database_url: str) -> int:
    from sqlalchemy import func, select

    from storage.db import create_engine, session_factory
    from storage.models import Message

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int(
                (await session.exec(select(func.count()).select_from(Message))).scalar_one()
            )
    finally:
        await engine.dispose()


async def post_webhooks(url: str, bodies: list[dict[str, Any]], workers: int) -> dict[str, Any]:
    """POST every body with `workers` connections; returns the rate and the failures."""
    import aiohttp

    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    failures: list[int] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            async with http.post(url, json=body, headers=headers) as response:
                await response.read()
                if response.status != 200:
                    failures.append(response.status)

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(workers)))
        elapsed = time.perf_counter() - started
    return {"seconds": round(elapsed, 2), "failures": len(failures), "statuses": failures[:5]}


async def _webhook_ingest(
    options: Any, folder: Path, run_cls: Any, *, customers: int, per_customer: int, workers: int
) -> dict[str, Any]:
    async with run_cls(options, folder, accept=False, updates="webhook") as run:
        users = run.fakes.add_customers(customers)
        await run.start_bridge()
        url = run.bridge.url + "/webhooks/telegram"
        # Warm-up (not timed): each customer's first message opens a conversation and a card.
        first = [telegram_update(i + 1, u, 1, f"hello {i}") for i, u in enumerate(users)]
        warm = await post_webhooks(url, first, workers)
        bodies = []
        update_id = len(first)
        for seq in range(2, per_customer + 2):
            for i, user in enumerate(users):
                update_id += 1
                bodies.append(telegram_update(update_id, user, seq, f"message {seq} of {i}"))
        timed = await post_webhooks(url, bodies, workers)
        stored = await count_messages(run.database_url)
        rss = run.bridge.rss_kb()
        expected = len(first) + len(bodies)
        return {
            "messages": len(bodies),
            "workers": workers,
            "new_conversations": {
                "messages": len(first),
                "per_second": round(len(first) / warm["seconds"], 1),
            },
            "seconds": timed["seconds"],
            "webhook_per_second": round(len(bodies) / timed["seconds"], 1),
            "failures": timed["failures"] + warm["failures"],
            "stored": stored,
            "lost": expected - stored,
            "bridge_rss_mb": round(rss / 1024, 1),
        }


class NullDesk:
    """A desk that shows nothing: isolates storage cost in the core comparison."""

    async def post_card(self, session, conversation, customer) -> None:
        return None

    async def update_card(self, session, conversation, customer) -> None:
        return None

    async def relay_inbound(self, session, conversation, customer, message) -> None:
        return None


async def _core_ingest(
    database_url: str, *, customers: int, per_customer: int, workers: int
) -> dict[str, Any]:
    """handle_inbound one transaction per message vs GroupCommit, same events, same database."""
    from bridge.core.group_commit import GroupCommit, Outcome, running
    from bridge.core.inbound import handle_inbound
    from bridge.core.inbound_batch import handle_inbound_batch
    from bridge.events import CustomerProfile, Inbound
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade_async

    await upgrade_async(database_url)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    desk = NullDesk()

    def event(prefix: str, customer: int, seq: int) -> Inbound:
        return Inbound(
            channel="telegram",
            chat=str(10_000 + customer),
            user=str(10_000 + customer),
            external_id=f"{prefix}:{customer}:{seq}",
            text=f"message {seq}",
            profile=CustomerProfile(first_name=f"Customer{customer}"),
        )

    async def handle(session: Any, item: Inbound) -> Any:
        return await handle_inbound(session, item, group="support", desk=desk)

    async def one_per_transaction(item: Inbound) -> None:
        async with sessions() as session, session.begin():
            await handle(session, item)

    async def drive(submit: Any, prefix: str) -> float:
        items = [event(prefix, c, s) for s in range(1, per_customer + 1) for c in range(customers)]
        queue: asyncio.Queue[Inbound] = asyncio.Queue()
        for item in items:
            queue.put_nowait(item)

        async def worker() -> None:
            while not queue.empty():
                await submit(queue.get_nowait())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return len(items) / (time.perf_counter() - started)

    async def handle_batch(session: Any, items: list[Inbound]) -> list[Outcome[Any]]:
        results = await handle_inbound_batch(session, items, group="support", desk=desk)
        return [Outcome(result) for result in results]

    try:
        for c in range(customers):  # conversations exist before timing (as after warm-up)
            await one_per_transaction(event("open", c, 0))
        alone = await drive(one_per_transaction, "alone")
        committer = GroupCommit(sessions, handle)
        async with running(committer):
            grouped = await drive(committer.submit, "grouped")
        batcher = GroupCommit(sessions, handle, handle_batch=handle_batch)
        async with running(batcher):
            batched = await drive(batcher.submit, "batched")
        stats = batcher.stats
    finally:
        await engine.dispose()
    return {
        "messages_each": customers * per_customer,
        "workers": workers,
        "one_per_transaction": round(alone, 1),
        "group_commit": round(grouped, 1),
        "batch_path": round(batched, 1),
        "mean_batch": round(stats.events / stats.batches, 1) if stats.batches else None,
        "largest_batch": stats.largest_batch,
    }


FLOOR_STAGES = ("http", "parse", "dispatch")


def _floor_server(port: int, stage: str, ready: Any) -> None:
    """A bare webhook server that stops after `stage` (runs in a child process)."""
    from botapi.models import defer_model_builds

    defer_model_builds()  # as in the service
    asyncio.run(_serve_floor(port, stage, ready))


async def _serve_floor(port: int, stage: str, ready: Any) -> None:
    from aiogram import Bot, Dispatcher, Router
    from aiogram.types import Message, Update
    from aiohttp import web

    bot = Bot("123456:floor")
    dispatcher = Dispatcher()
    router = Router()

    async def private(message: Message) -> bool:
        return message.chat.type == "private"

    @router.message(private)
    async def handle(message: Message) -> None:
        return None

    dispatcher.include_router(router)

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        if stage != "http":
            update = Update.model_validate(body, context={"bot": bot})
            if stage == "dispatch":
                await dispatcher.feed_update(bot, update)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/webhooks/telegram", webhook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ready.set()
    await asyncio.Event().wait()


async def webhook_floor(users: list[Any], *, messages: int, workers: int) -> dict[str, float]:
    """Webhooks per second each stage of the floor server answers (see the module doc)."""
    import multiprocessing

    from sandbox.runner import free_port

    bodies = [
        telegram_update(k + 1, users[k % len(users)], k + 1, f"floor {k}") for k in range(messages)
    ]
    rates: dict[str, float] = {}
    context = multiprocessing.get_context("spawn")
    for stage in FLOOR_STAGES:
        port = free_port()
        ready = context.Event()
        server = context.Process(target=_floor_server, args=(port, stage, ready), daemon=True)
        server.start()
        try:
            if not await asyncio.to_thread(ready.wait, 60):
                raise RuntimeError(f"the floor server ({stage}) did not start")
            url = f"http://127.0.0.1:{port}/webhooks/telegram"
            await post_webhooks(url, bodies[:200], workers)  # warm-up: first builds, connections
            timed = await post_webhooks(url, bodies, workers)
            rates[stage] = round(messages / timed["seconds"], 1)
        finally:
            server.kill()
            server.join(10)
    return rates


async def ingest_scenario(options: Any, folder: Path, run_cls: Any) -> dict[str, Any]:
    from bench.relay import make_database

    backends: dict[str, Any] = {}
    for backend in ("sqlite", "postgresql"):
        sub = folder / backend
        sub.mkdir()
        backend_options = replace(options, database=backend)
        try:
            figures = await _webhook_ingest(
                backend_options, sub, run_cls, customers=200, per_customer=25, workers=64
            )
            core_folder = sub / "core"
            core_folder.mkdir()
            url, drop = await make_database(backend, core_folder)
            try:
                figures["core"] = await _core_ingest(
                    url, customers=100, per_customer=10, workers=64
                )
            finally:
                if drop is not None:
                    await drop()
        except Exception as exc:  # e.g. no PostgreSQL here: report it, keep SQLite's figures
            figures = {"error": f"{type(exc).__name__}: {exc}", "webhook_per_second": None}
        backends[backend] = figures
    sqlite_rate = backends["sqlite"].get("webhook_per_second") or 0
    floor_users = Fakes(1.0).add_customers(200)
    return {
        "backends": backends,
        "floor_per_second": await webhook_floor(floor_users, messages=4000, workers=64),
        "target": ">= 1000 webhook messages/s stored on SQLite",
        "met": sqlite_rate >= 1000,
    }


# --- memory -----------------------------------------------------------------------------------


async def _seed_conversations(config_data: dict[str, Any], users: list[Any]) -> float:
    """Open one conversation per user through the real core and desk (cards queued)."""
    from app.config import parse_config
    from app.looks import platform_badges, platform_names
    from bridge.avatars import AvatarService
    from bridge.core.group_commit import GroupCommit, running
    from bridge.core.inbound import handle_inbound
    from bridge.events import CustomerProfile, Inbound
    from desk.telegram_desk import TelegramDesk
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade_async

    config = parse_config(config_data, source="bench memory")
    await upgrade_async(config.database)
    engine = create_engine(config.database)
    desk = TelegramDesk(config, AvatarService(badges=platform_badges()), platform_names())

    async def handle(session: Any, event: Inbound) -> Any:
        return await handle_inbound(session, event, group="support", desk=desk)

    started = time.perf_counter()
    try:
        committer = GroupCommit(session_factory(engine), handle)
        async with running(committer):
            events = [
                Inbound(
                    channel="telegram",
                    chat=str(user.id),
                    user=str(user.id),
                    external_id=f"seed:{user.id}",
                    text=f"hello from {user.first_name}",
                    profile=CustomerProfile(first_name=user.first_name, last_name=user.last_name),
                )
                for user in users
            ]
            for start in range(0, len(events), 500):
                await asyncio.gather(*(committer.submit(e) for e in events[start : start + 500]))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


#: Issue 16's target: the bridge's peak RSS holding 10,000 open conversations (MB).
MEMORY_TARGET_MB = 120


async def memory_scenario(options: Any, folder: Path, run_cls: Any) -> dict[str, Any]:
    """Peak, steady and start-up RSS of the bridge started on 10,000 open conversations.

    `rss_at_start_mb`: as soon as /healthz answers, before any traffic; `steady_rss_mb`: the
    median of the samples after the 300 messages were sent; `peak_rss_mb` (the kernel's
    high-water mark, VmHWM) is what the target judges.
    """
    conversations = 10_000
    async with run_cls(options, folder, accept=False) as run:
        fakes: Fakes = run.fakes
        users = fakes.add_customers(conversations)
        seed_seconds = await _seed_conversations(run.bridge.config, users)
        await run.start_bridge()
        at_start = run.bridge.rss_kb()
        started = time.monotonic()
        for i in range(300):  # more messages from customers whose conversations are open
            fakes.say(i * 31 % conversations, 1, "still there?")
            if i % 10 == 0:
                run.bridge.rss_kb()
                await asyncio.sleep(0.1)
        after_traffic: list[int] = []
        while time.monotonic() - started < 20:
            after_traffic.append(run.bridge.rss_kb())
            await asyncio.sleep(0.5)
        rss = run.bridge.rss_kb()
        stored = await count_messages(run.database_url)
        peak_mb = run.bridge.peak_rss_kb / 1024
        return {
            "conversations": conversations,
            "seed_seconds": round(seed_seconds, 1),
            "messages_stored": stored,
            "rss_mb": round(rss / 1024, 1),
            "peak_rss_mb": round(peak_mb, 1),
            "steady_rss_mb": round(_median(after_traffic or [rss]) / 1024, 1),
            "rss_at_start_mb": round(at_start / 1024, 1),
            "target": f"<= {MEMORY_TARGET_MB} MB peak",
            "met": peak_mb <= MEMORY_TARGET_MB,
        }


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2


# --- ingest per channel (issue 16) --------------------------------------------------------------

#: The channels `channel_ingest` measures.
CHANNELS = (
    "telegram-webhook",
    "telegram-polling",
    "vk-callback",
    "vk-longpoll",
    "viber",
    "facebook",
    "widget",
)
VK_SECRET, VK_CONFIRMATION = "bench-vk-secret", "bench-confirm"
WIDGET_ID, WIDGET_ORIGIN = "bench", "https://shop.bench.example"
WIDGET_SECRET = "bench-widget-secret-0123456789"
#: The widget keeps its product limits (adapters/site/limits.py): a visitor may send a burst of
#: 8 messages, and a widget's visitors open at most 10 conversations a minute. So its load comes
#: from many visitors who each already have an open conversation (opened through the core
#: before the bridge starts) and each send fewer messages than their burst.
WIDGET_VISITORS, WIDGET_PER_VISITOR = 500, 6


def _channel_sections(channel: str, fakes: Any) -> dict[str, Any]:
    from sandbox.server import (
        SANDBOX_FB_APP_SECRET,
        SANDBOX_FB_PAGE_TOKEN,
        SANDBOX_VIBER_TOKEN,
        SANDBOX_VK_GROUP_ID,
        SANDBOX_VK_TOKEN,
    )

    base = fakes.base_url
    if channel.startswith("vk"):
        vk: dict[str, Any] = {
            "group": "support",
            "token": SANDBOX_VK_TOKEN,
            "group_id": SANDBOX_VK_GROUP_ID,
            "api_url": base + "/vk",
            "updates": "longpoll" if channel == "vk-longpoll" else "callback",
        }
        if channel == "vk-callback":
            vk |= {"secret": VK_SECRET, "confirmation": VK_CONFIRMATION}
        return {"vk": vk}
    if channel == "widget":
        widget = {"group": "support", "title": "Bench", "origins": [WIDGET_ORIGIN]}
        return {"site": {"widgets": {WIDGET_ID: widget}}}
    if channel == "viber":
        return {
            "viber": {
                "group": "support",
                "token": SANDBOX_VIBER_TOKEN,
                "name": "Shop",
                "api_url": base + "/viber/pa",
            }
        }
    if channel == "facebook":
        return {
            "facebook": {
                "group": "support",
                "page_token": SANDBOX_FB_PAGE_TOKEN,
                "app_secret": SANDBOX_FB_APP_SECRET,
                "verify_token": "bench",
                "graph_url": base + "/facebook/v21.0",
            }
        }
    return {}


class _ChannelLoad:
    """Customers of one channel and the deliveries of their messages (HTTP bodies, or events
    pushed into the fake for the polled channels)."""

    def __init__(self, channel: str, fakes: Any, customers: int) -> None:
        self.channel = channel
        self.fakes = fakes
        sandbox = fakes.sandbox
        self.users: list[Any] = []
        self.tokens: list[str] = []
        for i in range(customers):
            if channel == "widget":
                from adapters.site import tokens

                visitor = tokens.new_visitor_id()
                self.users.append(visitor)
                self.tokens.append(tokens.issue_token(WIDGET_SECRET.encode(), WIDGET_ID, visitor))
            elif channel.startswith("telegram"):
                self.users = fakes.add_customers(customers)
                break
            if channel.startswith("vk"):
                uid = 900_000 + i
                sandbox.vk.add_user(uid, f"Customer{i}", f"Bench{i}")
                self.users.append(uid)
            elif channel == "viber":
                self.users.append(sandbox.viber.add_user(name=f"Customer{i} Bench{i}"))
            elif channel == "facebook":
                self.users.append(
                    sandbox.facebook.add_user(first_name=f"Customer{i}", last_name=f"Bench{i}")
                )
        self._seq = 0

    @property
    def path(self) -> str:
        return {
            "telegram-webhook": "/webhooks/telegram",
            "vk-callback": "/webhooks/vk",
            "viber": "/webhooks/viber",
            "facebook": "/webhooks/facebook",
            "widget": f"/widget/{WIDGET_ID}/messages",
        }[self.channel]

    def body(self, index: int, text: str) -> tuple[bytes, dict[str, str]]:
        """One webhook delivery of customer `index`'s message `text`."""
        import json as _json
        import secrets

        self._seq += 1
        user = self.users[index]
        sandbox = self.fakes.sandbox
        if self.channel == "widget":
            # as widget.js sends it: the name the visitor typed, with every message
            message = {"id": f"bench-{self._seq:08d}", "text": text, "name": f"Visitor {index}"}
            return _json.dumps(message).encode(), {
                "Authorization": f"Bearer {self.tokens[index]}",
                "Origin": WIDGET_ORIGIN,
            }
        if self.channel == "telegram-webhook":
            update = telegram_update(self._seq, user, self._seq, text)
            return _json.dumps(update).encode(), {
                "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET
            }
        if self.channel == "vk-callback":
            from sandbox.vk import payloads

            message = payloads.message_object(
                self._seq, self._seq, user, user, text, int(time.time()), []
            )
            event = payloads.event(
                sandbox.vk.group_id,
                "message_new",
                {"message": message, "client_info": payloads.CLIENT_INFO},
            )
            event["secret"] = VK_SECRET
            return _json.dumps(event).encode(), {}
        if self.channel == "viber":
            from sandbox.server import SANDBOX_VIBER_TOKEN
            from sandbox.viber.fake import sign

            event = {
                "event": "message",
                "timestamp": int(time.time() * 1000),
                "chat_hostname": "SN-CHAT-01_",
                "message_token": 5_000_000_000_000_000 + self._seq,
                "sender": sandbox.viber._user(user),
                "message": {"type": "text", "text": text},
            }
            raw = _json.dumps(event, ensure_ascii=False).encode()
            return raw, {"X-Viber-Content-Signature": sign(SANDBOX_VIBER_TOKEN, raw)}
        if self.channel == "facebook":
            from sandbox.facebook.fake import signature
            from sandbox.server import SANDBOX_FB_APP_SECRET

            now = int(time.time() * 1000)
            entry = {
                "id": sandbox.facebook.page_id,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": user},
                        "recipient": {"id": sandbox.facebook.page_id},
                        "timestamp": now,
                        "message": {"mid": f"m_{secrets.token_urlsafe(18)}", "text": text},
                    }
                ],
            }
            raw = _json.dumps({"object": "page", "entry": [entry]}).encode()
            return raw, {"X-Hub-Signature-256": signature(SANDBOX_FB_APP_SECRET, raw)}
        raise ValueError(self.channel)

    async def push(self, index: int, text: str) -> None:
        """A polled channel: the customer writes (the bridge fetches it with its next poll)."""
        if self.channel == "telegram-polling":
            self.fakes.telegram.user_says(self.users[index], text)
        else:
            await self.fakes.sandbox.vk.customer_message(self.users[index], text)


async def _post_raw(
    url: str, deliveries: list[tuple[bytes, dict[str, str]]], workers: int
) -> dict[str, Any]:
    import aiohttp

    queue: asyncio.Queue[tuple[bytes, dict[str, str]]] = asyncio.Queue()
    for delivery in deliveries:
        queue.put_nowait(delivery)
    failures: list[int] = []

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            body, headers = queue.get_nowait()
            async with http.post(
                url, data=body, headers={"Content-Type": "application/json", **headers}
            ) as response:
                await response.read()
                if response.status != 200:
                    failures.append(response.status)

    connector = aiohttp.TCPConnector(limit=workers)
    async with aiohttp.ClientSession(connector=connector) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(workers)))
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "failures": len(failures), "statuses": failures[:5]}


async def _post_lean(
    url: str, deliveries: list[tuple[bytes, dict[str, str]]], workers: int
) -> dict[str, Any]:
    """`_post_raw` with requests encoded beforehand and written on keep-alive sockets: the
    load client then costs a few tens of microseconds a message, so that on two cores the
    bridges, not the client, decide how many messages a second are stored (--scale-out)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    requests = []
    for body, headers in deliveries:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        requests.append(
            (
                f"POST {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"{head}\r\n"
            ).encode()
            + body
        )
    turn = iter(requests)
    failures: list[int] = []

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for request in turn:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                if status != 200:
                    failures.append(status)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "failures": len(failures), "statuses": failures[:5]}


async def _wait_count(database_url: str, expected: int, patience: float) -> int:
    deadline = time.monotonic() + patience
    stored = await count_messages(database_url)
    while stored < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        stored = await count_messages(database_url)
    return stored


async def _seed_visitors(config_data: dict[str, Any], visitors: list[str]) -> float:
    """Open one widget conversation per visitor through the real core and desk (cards queued),
    before the bridge starts: the widget lets its visitors open only 10 a minute."""
    from app.config import parse_config
    from app.looks import platform_badges, platform_names
    from bridge.avatars import AvatarService
    from bridge.core.group_commit import GroupCommit, running
    from bridge.core.inbound import handle_inbound
    from bridge.events import CustomerProfile, Inbound
    from desk.telegram_desk import TelegramDesk
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade_async

    config = parse_config(config_data, source="bench widget")
    await upgrade_async(config.database)
    engine = create_engine(config.database)
    desk = TelegramDesk(config, AvatarService(badges=platform_badges()), platform_names())

    async def handle(session: Any, event: Inbound) -> Any:
        return await handle_inbound(session, event, group="support", desk=desk)

    started = time.perf_counter()
    try:
        committer = GroupCommit(session_factory(engine), handle)
        async with running(committer):
            events = [
                Inbound(
                    channel=f"site:{WIDGET_ID}",
                    chat=visitor,
                    user=visitor,
                    external_id=f"{visitor}:seed-{i:08d}",
                    text=f"hello {i}",
                    profile=CustomerProfile(display_name=f"Visitor {i}"),
                )
                for i, visitor in enumerate(visitors)
            ]
            await asyncio.gather(*(committer.submit(e) for e in events))
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def _deliver(
    channel: str,
    load: _ChannelLoad,
    database_url: str,
    url: str,
    texts: list[tuple[int, str]],
    workers: int,
) -> dict[str, Any]:
    """Deliver `texts` ((customer index, text)); webhooks: until every POST was answered (200
    only after the commit); polled channels: until the database holds them all."""
    if channel not in POLLED:
        return await _post_raw(url, [load.body(i, t) for i, t in texts], workers)
    before = await count_messages(database_url)
    started = time.perf_counter()
    # VK's long poll server keeps only so many events (the fake: 1,000; more and the history
    # is lost, `failed: 1`): feed it in waves of half that
    wave = 500 if channel == "vk-longpoll" else len(texts)
    for start in range(0, len(texts), wave):
        for index, text in texts[start : start + wave]:
            await load.push(index, text)
        half_stored = before + min(start + wave // 2, len(texts))
        await _wait_count(database_url, half_stored, 60)
    stored = await _wait_count(database_url, before + len(texts), 120)
    return {"seconds": time.perf_counter() - started, "failures": before + len(texts) - stored}


POLLED = ("telegram-polling", "vk-longpoll")


@contextlib.asynccontextmanager
async def sampled(pid: int | None, name: str) -> AsyncIterator[None]:
    """With `BENCH_SAMPLE=DIR` in the environment and py-spy on PATH: the bridge process
    sampled while the block runs, its folded stacks written to DIR/<name>.txt."""
    folder, spy = os.environ.get("BENCH_SAMPLE"), shutil.which("py-spy")
    if not folder or not spy or pid is None:
        yield
        return
    out = Path(folder) / f"{name}.txt"
    command = [spy, "record", "-p", str(pid), "-r", "200", "-f", "raw", "-o", str(out)]
    recorder = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    await asyncio.sleep(0.5)  # attached
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        await recorder.wait()


async def _prepare(run: Any, channel: str, customers: int) -> tuple[_ChannelLoad, dict[str, Any]]:
    """The channel's customers and bridge config; the widget's conversations opened."""
    load = _ChannelLoad(channel, run.fakes, customers)
    assert run.bridge is not None
    config = run.bridge.config
    config["channels"].update(_channel_sections(channel, run.fakes))
    if not channel.startswith("telegram"):
        config["channels"].pop("telegram", None)
    opened: dict[str, Any] = {}
    if channel == "widget":
        config["http"]["widget_secret"] = WIDGET_SECRET
        seconds = await _seed_visitors(config, load.users)
        opened = {
            "conversations_opened_before_start": len(load.users),
            "opened_per_second_in_core": round(len(load.users) / seconds, 1),
            "limits": "product defaults (adapters/site/limits.py); each visitor sends "
            "fewer messages than its burst of 8",
        }
    return load, opened


async def channel_ingest(
    options: Any,
    folder: Path,
    run_cls: Any,
    channel: str,
    *,
    customers: int,
    per_customer: int,
    workers: int,
) -> dict[str, Any]:
    """Messages durably stored per second from one channel: many customers at once, after a
    warm-up in which each opened a conversation (the widget's were opened before the start).
    Webhooks: the time until every POST was answered 200 (only after the commit); polled
    channels: until the database holds them all."""
    updates = "polling" if channel == "telegram-polling" else "webhook"
    async with run_cls(options, folder, accept=False, updates=updates) as run:
        load, opened = await _prepare(run, channel, customers)
        await run.start_bridge()
        url = run.bridge.url + ("" if channel in POLLED else load.path)
        n = len(load.users)
        figures: dict[str, Any] = {"channel": channel}
        if opened:
            figures |= opened
        else:
            firsts = [(i, f"hello {i}") for i in range(n)]
            warm = await _deliver(channel, load, run.database_url, url, firsts, workers)
            figures["new_conversations_per_second"] = round(n / warm["seconds"], 1)
            figures["failures"] = warm["failures"]
        timed_texts = [
            (i, f"message {seq} of {i}") for seq in range(per_customer) for i in range(n)
        ]
        pid = run.bridge.process.pid if run.bridge.process else None
        cpu = _cpu_seconds(pid) if pid else 0.0
        async with sampled(pid, channel):
            timed = await _deliver(channel, load, run.database_url, url, timed_texts, workers)
        cpu = _cpu_seconds(pid) - cpu if pid else 0.0
        expected = n + len(timed_texts)
        stored = await _wait_count(run.database_url, expected, 10)
        return figures | {
            "messages": len(timed_texts),
            "seconds": round(timed["seconds"], 2),
            "stored_per_second": round(len(timed_texts) / timed["seconds"], 1),
            "bridge_cpu_ms_per_message": round(1000 * cpu / len(timed_texts), 2),
            "failures": figures.get("failures", 0) + timed["failures"],
            "statuses": timed.get("statuses", []),
            "stored": stored,
            "lost": expected - stored,
        }


def _load_size(channel: str) -> tuple[int, int]:
    """(customers, messages each) of the timed phase: 3,000 messages."""
    return (WIDGET_VISITORS, WIDGET_PER_VISITOR) if channel == "widget" else (200, 15)


async def channels_scenario(
    options: Any, folder: Path, run_cls: Any, channels: tuple[str, ...] = CHANNELS
) -> dict[str, Any]:
    """`channel_ingest` for each channel on `options.database`; the target: >= 1,000/s."""
    figures: dict[str, Any] = {}
    for channel in channels:
        sub = folder / channel
        sub.mkdir()
        try:
            customers, per_customer = _load_size(channel)
            figures[channel] = await channel_ingest(
                options,
                sub,
                run_cls,
                channel,
                customers=customers,
                per_customer=per_customer,
                workers=64,
            )
        except Exception as exc:  # report it, go on with the next channel
            figures[channel] = {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "database": options.database,
        "channels": figures,
        "target": ">= 1000 stored/s per channel on SQLite",
        "floor_per_second": await _client_floor(workers=64),
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
    }


async def _client_floor(*, workers: int, messages: int = 3000) -> float:
    """What the load client posts per second to a server that answers at once (same run)."""
    from bench._balancer import Balancer

    body = (b'{"text": "floor"}', {})
    async with Balancer.answering() as server:
        result = await _post_raw(server.url + "/floor", [body] * messages, workers)
    return round(messages / result["seconds"], 1)


#: The channels served by every process (a poller runs on the leader only).
SCALE_OUT_CHANNELS = ("telegram-webhook", "vk-callback", "viber", "facebook", "widget")


#: One-process and two-process phases timed in turn per channel (--scale-out).
SCALE_OUT_ROUNDS = 5
#: Deliveries in flight at once (--scale-out): a platform's concurrent webhook connections.
SCALE_OUT_IN_FLIGHT = 64


async def scale_out(
    options: Any,
    folder: Path,
    run_cls: Any,
    channel: str,
    *,
    customers: int,
    per_customer: int,
    workers: int,
    rounds: int = SCALE_OUT_ROUNDS,
) -> dict[str, Any]:
    """One PostgreSQL database; the same load through a round-robin balancer (nginx where it
    is installed, bench/_balancer.py) to one `talker-bridge run`, then to two, `rounds` times
    in turn (this machine's speed drifts: each pair is timed side by side, and the medians are
    compared); and, in the same run, the floor: the balancer in front of an upstream that
    answers at once. `workers` deliveries are in flight at once, as a platform holds several
    webhook connections open (Telegram's `max_connections`: 40 by default, up to 100).

    Each phase has its own customers (a widget visitor's burst is spent in one phase), whose
    conversations were opened before the timed phases (through the balancer to the first
    process; the widget's through the core); the two-process phases' customers also wrote
    once to the second process before it is timed, as to a process that has run a while."""
    import copy

    from bench._balancer import Balancer
    from bench._harness import BridgeProcess
    from sandbox.runner import free_port

    if channel not in SCALE_OUT_CHANNELS:
        raise ValueError(f"{channel}: only {', '.join(SCALE_OUT_CHANNELS)} scale out")
    options = replace(options, database="postgresql")
    blocks = 2 * rounds
    async with run_cls(options, folder, accept=False, updates="webhook") as run:
        load, opened = await _prepare(run, channel, blocks * customers)
        first = run.bridge
        config = copy.deepcopy(first.config)
        port = free_port()
        config["http"] |= {"port": port, "public_url": f"http://127.0.0.1:{port}"}
        second_folder = folder / "second"
        second_folder.mkdir()
        # log_level info: its group commit's batches, logged when it stops (_batches)
        second = BridgeProcess(config, first.time_scale, second_folder, log_level="info")
        await run.start_bridge()

        def block(n: int) -> list[int]:
            return list(range(n * customers, (n + 1) * customers))

        figures: dict[str, Any] = {
            "channel": channel,
            "database": "postgresql",
            "deliveries_in_flight": workers,
        } | opened

        def texts(customers_: list[int], phase: str) -> list[tuple[int, str]]:
            return [
                (i, f"{phase} {seq} of {i}") for seq in range(per_customer) for i in customers_
            ]

        async def timed(url: str, items: list[tuple[int, str]], name: str) -> dict[str, Any]:
            deliveries = [load.body(i, t) for i, t in items]
            pids = [
                b.process.pid
                for b in (first, second)
                if b.process is not None and b.process.returncode is None
            ]
            cpu, machine = [_cpu_seconds(pid) for pid in pids], _machine_times()
            others = _others_cpu()
            async with (
                sampled(pids[0], f"{channel}-{name}"),
                lock_waits(run.database_url) as waits,
            ):
                result = await _post_lean(url + load.path, deliveries, workers)
            cpu = [_cpu_seconds(pid) - c for pid, c in zip(pids, cpu, strict=True)]
            others = {k: v - others.get(k, 0.0) for k, v in _others_cpu().items()}
            now = _machine_times()
            busy, total = now[0] - machine[0], now[1] - machine[1]
            return {
                "messages": len(items),
                "seconds": round(result["seconds"], 2),
                "per_second": round(len(items) / result["seconds"], 1),
                "failures": result["failures"],
                "statuses": result["statuses"],
                "bridge_cpu_ms_per_message": round(1000 * sum(cpu) / len(items), 2),
                "machine_busy_percent": round(100 * busy / total, 1) if total else None,
                "sessions_waiting_for_a_lock": waits.average,
                "postgresql_sessions_opened": waits.sessions_opened,
            } | {
                f"{k}_cpu_ms_per_message": round(1000 * v / len(items), 2)
                for k, v in others.items()
            }

        ones: list[dict[str, Any]] = []
        twos: list[dict[str, Any]] = []
        try:
            async with Balancer([first.url]) as balancer:
                figures["balancer"] = balancer.kind
                if not opened:
                    firsts = [(i, f"hello {i}") for i in range(blocks * customers)]
                    warm = await _post_raw(
                        balancer.url + load.path, [load.body(i, t) for i, t in firsts], workers
                    )
                    figures["warm_up_failures"] = warm["failures"]
                await second.start()
                # As in a service that has run a while, the second process has seen these
                # customers too (its caches: VK names, the widget's open conversations)
                again = [load.body(i, f"again {i}") for n in range(1, blocks, 2) for i in block(n)]
                warm_second = await _post_raw(second.url + load.path, again, workers)
                figures["warm_up_failures"] = (
                    figures.get("warm_up_failures", 0) + warm_second["failures"]
                )
                await analyze(run.database_url)
                async with Balancer([first.url, second.url]) as both:
                    for n in range(rounds):
                        ones.append(
                            await timed(balancer.url, texts(block(2 * n), f"one{n}"), f"one{n}")
                        )
                        twos.append(
                            await timed(both.url, texts(block(2 * n + 1), f"two{n}"), f"two{n}")
                        )
            async with Balancer([]) as balancer:
                floor_texts = texts(block(0), "floor")
                figures["floor_balancer_only"] = await timed(balancer.url, floor_texts, "floor")
        finally:
            await second.stop()
        figures["second_process_batches"] = _batches(second.log_path)
        expected = blocks * customers * (1 + per_customer) + rounds * customers
        stored = await _wait_count(run.database_url, expected, 10)
        one = statistics.median(phase["per_second"] for phase in ones)
        two = statistics.median(phase["per_second"] for phase in twos)
        busy_one = statistics.median(phase["machine_busy_percent"] for phase in ones)
        return figures | {
            "one_process": _phases(ones),
            "two_processes": _phases(twos),
            "ratio_two_to_one": round(two / one, 2),
            # If two processes turned every idle cycle of the one-process phase into messages
            # at that phase's CPU per message (nothing costs more when the parts share cores)
            "ratio_if_nothing_cost_more": round(100 / busy_one, 2),
            "ratio_each_round": [
                round(b["per_second"] / a["per_second"], 2)
                for a, b in zip(ones, twos, strict=True)
            ],
            "target": ">= 1.5",
            "stored": stored,
            "lost": expected - stored,
        }


def _phases(phases: list[dict[str, Any]]) -> dict[str, Any]:
    """The medians of timed phases, and each phase's stored messages a second."""

    def median(key: str) -> float:
        return round(statistics.median(phase[key] for phase in phases), 2)

    return {
        "per_second": median("per_second"),
        "bridge_cpu_ms_per_message": median("bridge_cpu_ms_per_message"),
        "postgresql_cpu_ms_per_message": median("postgresql_cpu_ms_per_message"),
        "nginx_cpu_ms_per_message": median("nginx_cpu_ms_per_message"),
        "client_and_fakes_cpu_ms_per_message": median("client_and_fakes_cpu_ms_per_message"),
        "sessions_waiting_for_a_lock": median("sessions_waiting_for_a_lock"),
        "postgresql_sessions_opened": median("postgresql_sessions_opened"),
        "machine_busy_percent": median("machine_busy_percent"),
        "failures": sum(phase["failures"] for phase in phases),
        "each_round_per_second": [phase["per_second"] for phase in phases],
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    return _stat_seconds(Path(f"/proc/{pid}/stat").read_text())


def _stat_seconds(stat: str, *, reaped_children: bool = False) -> float:
    """The CPU seconds in a /proc/PID/stat text: user + system, and with `reaped_children`
    those of the children it has waited for."""
    fields = stat.rpartition(")")[2].split()
    kept = (11, 12, 13, 14) if reaped_children else (11, 12)
    return sum(int(fields[i]) for i in kept) / os.sysconf("SC_CLK_TCK")


def _batches(log_path: Path) -> dict[str, Any] | None:
    """The group commit's batches of a stopped bridge (its info line "inbound: N messages in
    M commits (largest L); R batches redone alone"): fewer messages a commit, more overhead."""
    for line in log_path.read_text(errors="replace").splitlines():
        found = re.search(
            r"inbound: (\d+) messages in (\d+) commits \(largest (\d+)\); (\d+)", line
        )
        if found and int(found[1]):
            messages, commits, largest, redone = (int(x) for x in found.groups())
            return {
                "messages": messages,
                "commits": commits,
                "average": round(messages / commits, 1),
                "largest": largest,
                "redone_alone": redone,
            }
    return None


class _Waits:
    average: float | None = None
    sessions_opened: int | None = None


@contextlib.asynccontextmanager
async def lock_waits(database_url: str, every: float = 0.02) -> AsyncIterator[_Waits]:
    """How many PostgreSQL sessions wait for a lock (a row another transaction holds), on
    average while the block runs: sampled from pg_stat_activity every `every` seconds; and how
    many sessions were opened meanwhile (each a new server process: a pool that overflows)."""
    import asyncpg

    connection = await asyncpg.connect(database_url)
    waits, samples = _Waits(), []
    query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    opened = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    sessions_before = await connection.fetchval(opened)

    async def sample() -> None:
        while True:
            samples.append(await connection.fetchval(query))
            await asyncio.sleep(every)

    task = asyncio.create_task(sample())
    try:
        yield waits
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        waits.sessions_opened = await connection.fetchval(opened) - sessions_before
        await connection.close()
        waits.average = round(sum(samples) / len(samples), 2) if samples else None


def _others_cpu() -> dict[str, float]:
    """CPU seconds used so far by PostgreSQL, nginx and this process (the load client and the
    fakes): what the bridges share the machine with. PostgreSQL's backends come and go: the
    postmaster's reaped children count through its `cutime`/`cstime`."""
    totals = {"postgresql": 0.0, "nginx": 0.0, "client_and_fakes": _cpu_seconds(os.getpid())}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        kind = (
            "postgresql" if name.startswith("postgres") else "nginx" if name == "nginx" else None
        )
        if kind is not None:
            totals[kind] += _stat_seconds(text, reaped_children=True)
    return totals


def _machine_times() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot (from /proc/stat)."""
    ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


async def scale_out_scenario(
    options: Any,
    folder: Path,
    run_cls: Any,
    channels: tuple[str, ...],
    *,
    rounds: int = SCALE_OUT_ROUNDS,
    workers: int = SCALE_OUT_IN_FLIGHT,
) -> dict[str, Any]:
    """`scale_out` for each channel."""
    figures: dict[str, Any] = {}
    for channel in channels:
        sub = folder / f"scale-{channel}"
        sub.mkdir()
        customers, per_customer = _load_size(channel)
        try:
            figures[channel] = await scale_out(
                options,
                sub,
                run_cls,
                channel,
                customers=customers,
                per_customer=per_customer,
                workers=workers,
                rounds=rounds,
            )
        except Exception as exc:  # report it, go on with the next channel
            figures[channel] = {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "scale_out": figures,
        "machine": {"cores": os.cpu_count(), "load_average": os.getloadavg()},
        "note": "the load client, the fakes, the balancer, PostgreSQL and the bridges share "
        "these cores",
    }


def main() -> None:
    """`python -m bench._ingest [CHANNEL ...] [--database sqlite|postgresql] [--scale-out]`:
    ingest per channel (from the repository's root); `--scale-out`: one vs two processes on
    PostgreSQL behind a round-robin balancer, for the channels every process serves."""
    import argparse
    import json as _json
    import sys
    import tempfile

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("channels", nargs="*")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--scale-out", action="store_true")
    parser.add_argument("--rounds", type=int, default=SCALE_OUT_ROUNDS)
    parser.add_argument("--workers", type=int, default=SCALE_OUT_IN_FLIGHT)
    args = parser.parse_args()
    from bench.relay import Options, Run

    options = Options(
        time_scale=1.0, database=args.database, keep=False, seed=1, busy_minutes=1, light_minutes=1
    )
    with tempfile.TemporaryDirectory(prefix="ingest-channels-") as folder:
        if args.scale_out:
            channels = tuple(args.channels) or SCALE_OUT_CHANNELS
            result = asyncio.run(
                scale_out_scenario(
                    options, Path(folder), Run, channels, rounds=args.rounds, workers=args.workers
                )
            )
        else:
            channels = tuple(args.channels) or CHANNELS
            result = asyncio.run(channels_scenario(options, Path(folder), Run, channels))
    _json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
