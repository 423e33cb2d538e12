"""The fault scenarios of issue 13, shared by the tests (tests/faults/) and bench/faults.py.

Each scenario runs the real `talker-bridge run` in one or two subprocesses against the four fake
platforms (served in this process, every channel on: Telegram, VK, Viber, Facebook and a site
widget), lets one customer per channel open a conversation that an operator accepts, then sends
a burst — tagged customer messages on every channel and tagged operator replies in every topic
— and injects its fault in the middle of it. It then waits until everything arrived and counts,
from what the platforms show (the operators' forum topics, each customer's chat):

- lost: tags sent that never arrived (must be 0);
- duplicates: extra copies of a tag (at most the calls that were in flight at the fault);
- recovery: seconds from the fault until the last item arrived.

Tags: a customer message carries `Q<customer>N<seq>Z`, an operator reply `R<customer>N<seq>Z`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import re
import secrets
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench._harness import BridgeProcess
from sandbox.chaos import ChaosSettings
from sandbox.runner import RunningApp, free_port, start_app
from sandbox.server import (
    SANDBOX_FB_APP_SECRET,
    SANDBOX_FB_PAGE_TOKEN,
    SANDBOX_TELEGRAM_TOKEN,
    SANDBOX_VIBER_TOKEN,
    SANDBOX_VK_GROUP_ID,
    SANDBOX_VK_TOKEN,
    Sandbox,
)
from tests.support.pg_cluster import PgCluster
from tests.support.tcp_proxy import TcpProxy

#: The bridge and the fakes both run this many times faster than real time.
TIME_SCALE = 40.0
CHANNELS = ("telegram", "vk", "viber", "facebook", "site")
MESSAGES_PER_CUSTOMER = 6
REPLIES_PER_CUSTOMER = 2
#: Outbox calls one process may have in flight (bridge.runtime's default concurrency): the
#: duplicates a fault that cuts a process off may cause at most.
IN_FLIGHT_PER_PROCESS = 16
#: How long a scenario waits for everything to arrive after its fault (real seconds).
RECOVERY_DEADLINE = 40.0


def _outbox_lease_seconds() -> float:
    """The outbox lease `talker-bridge run` uses (Runtime.start_worker's default)."""
    from bridge.runtime import Runtime

    default = inspect.signature(Runtime.start_worker).parameters["lease_seconds"].default
    return float(default) if isinstance(default, int | float) else 60.0


#: Rows a process leased stay with it this long (not scaled by --time-scale). A process that
#: is killed, cut off or loses the database mid-call keeps its leased rows until then, so those
#: scenarios wait past it before calling anything lost.
OUTBOX_LEASE_SECONDS = _outbox_lease_seconds()
LEASED_ROWS_DEADLINE = OUTBOX_LEASE_SECONDS + 15.0
#: Pairs of processes started together on a fresh database in scenario (e).
START_ROUNDS = 3
#: How long the database is away in scenario (b) (real seconds).
DATABASE_DOWN_SECONDS = 1.0
WIDGET = "shop"
WIDGET_ORIGIN = "https://shop.example.test"
FB_VERIFY_TOKEN = "faults-verify-token"
VK_SECRET = "faults-vk-secret"
WEBHOOK_SECRET = "faults-webhook-secret"
CUSTOMER_TAG = re.compile(r"Q(\d+)N(\d+)Z")
REPLY_TAG = re.compile(r"R(\d+)N(\d+)Z")
#: Faults of scenario (a): 10 % 5xx, 5 % timeouts, occasional 429s.
BURST_CHAOS = ChaosSettings(error_rate=0.10, timeout_rate=0.05, throttle_rate=0.02, seed=13)


@dataclass
class Outcome:
    """One scenario's figures (a row of bench/faults.py's table)."""

    scenario: str
    mode: str
    backend: str
    sent: int = 0
    lost: int = 0
    duplicates: int = 0
    allowed_duplicates: int = 0
    recovery_s: float | None = None
    failures: list[str] = field(default_factory=list)
    lost_tags: list[str] = field(default_factory=list)
    injected: dict[str, Any] = field(default_factory=dict)
    logs: str = ""
    wall_s: float = 0.0

    def problems(self) -> list[str]:
        """What breaks the promise: an empty list when nothing was lost or doubled too often."""
        found = list(self.failures)
        if self.lost:
            found.append(f"{self.lost} of {self.sent} lost: {', '.join(self.lost_tags[:12])}")
        if self.duplicates > self.allowed_duplicates:
            found.append(
                f"{self.duplicates} duplicates, at most {self.allowed_duplicates} allowed"
            )
        return found

    def row(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "mode": self.mode,
            "backend": self.backend,
            "sent": self.sent,
            "lost": self.lost,
            "duplicates": self.duplicates,
            "allowed": self.allowed_duplicates,
            "recovery_s": self.recovery_s,
            "failures": self.failures,
            "wall_s": self.wall_s,
        }


# --- the customers' side -----------------------------------------------------------------------


@dataclass
class Customer:
    """One person on one channel; `index` is the number in their tags."""

    channel: str
    index: int
    ident: str
    name: str
    token: str = ""  # the site visitor's token
    thread_id: int | None = None


class Platforms:
    """The four fakes on a free port (K times faster), the customers and the operator."""

    def __init__(self, time_scale: float = TIME_SCALE) -> None:
        self.time_scale = time_scale
        self.sandbox = Sandbox(time_scale=time_scale)
        self.telegram = self.sandbox.telegram
        self.group = self.sandbox.group_chat_id
        self.operator = self.sandbox.operators[0]
        self.bot = next(iter(self.telegram.world.bots.values()))
        # Platforms retry webhooks for an hour; give the fakes' deliverers room for a restart.
        for deliverer in (
            self.sandbox.vk.callbacks,
            self.sandbox.viber.deliverer,
            self.sandbox.facebook.deliverer,
        ):
            deliverer.max_attempts = 14
        self.customers: list[Customer] = []
        self._running: RunningApp | None = None
        self._pressed: set[tuple[int, str]] = set()
        self._accepting: asyncio.Task[None] | None = None
        self.bridge_url = ""  # where customers of the widget reach the bridge
        self._history: dict[int, list[dict[str, Any]]] = {}

    @property
    def url(self) -> str:
        assert self._running is not None
        return self._running.base_url

    async def start(self) -> None:
        self._running = await start_app(self.sandbox.build_app())

    async def stop(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._accepting
        if self._running is not None:
            await self._running.runner.cleanup()
            self._running = None

    # chaos

    def chaos(self, settings: ChaosSettings | None) -> None:
        """Turn random faults on in every fake (each with its own seed), or off."""
        for offset, plan in enumerate(self.sandbox.chaos_plans().values()):
            seeded = None if settings is None else replace(settings, seed=settings.seed + offset)
            plan.configure(seeded)

    def injected(self) -> dict[str, Any]:
        return {name: plan.summary() for name, plan in self.sandbox.chaos_plans().items()}

    def timeouts_after_effect(self) -> int:
        return sum(
            sum(plan.timeouts_after_effect.values())
            for plan in self.sandbox.chaos_plans().values()
        )

    # the bridge's config

    def config(self, *, mode: str, database: str, port: int, public_url: str) -> dict[str, Any]:
        """A config with every channel on, pointing at these fakes."""
        base = self.url
        telegram: dict[str, Any] = {
            "token": SANDBOX_TELEGRAM_TOKEN,
            "api_url": f"{base}/telegram",
            "updates": "polling" if mode == "polling" else "webhook",
        }
        if mode == "webhook":
            telegram["webhook_secret"] = WEBHOOK_SECRET
        vk: dict[str, Any] = {
            "group": "support",
            "token": SANDBOX_VK_TOKEN,
            "group_id": SANDBOX_VK_GROUP_ID,
            "api_url": f"{base}/vk",
            "updates": "longpoll" if mode == "polling" else "callback",
        }
        if mode == "webhook":
            vk["secret"] = VK_SECRET
            vk["confirmation"] = self.sandbox.vk.state.confirmation_code
        return {
            "language": "en",
            "database": database,
            "http": {
                "host": "127.0.0.1",
                "port": port,
                "public_url": public_url,
                "widget_secret": "faults-widget-signing-key",
            },
            "telegram": telegram,
            "groups": {
                "support": {
                    "chat_id": self.group,
                    "mode": "topics",
                    "operators": [self.operator.id],
                    "dashboard": False,
                }
            },
            "channels": {
                "telegram": {"group": "support"},
                "vk": vk,
                "viber": {
                    "group": "support",
                    "token": SANDBOX_VIBER_TOKEN,
                    "name": "Shop",
                    "api_url": f"{base}/viber/pa",
                },
                "facebook": {
                    "group": "support",
                    "page_token": SANDBOX_FB_PAGE_TOKEN,
                    "app_secret": SANDBOX_FB_APP_SECRET,
                    "verify_token": FB_VERIFY_TOKEN,
                    "graph_url": f"{base}/facebook/v21.0",
                },
                "site": {
                    "widgets": {
                        WIDGET: {"group": "support", "title": "Shop", "origins": [WIDGET_ORIGIN]}
                    }
                },
            },
        }

    async def connect_webhooks(self, public_url: str, mode: str) -> None:
        """What an admin's set-webhooks (and Meta's verification) does, done on the fakes."""
        self.bridge_url = public_url
        sandbox = self.sandbox
        if mode == "webhook":
            await self.telegram.call(
                self.bot,
                "setWebhook",
                {"url": f"{public_url}/webhooks/telegram", "secret_token": WEBHOOK_SECRET},
            )
            if not await sandbox.vk.set_callback(f"{public_url}/webhooks/vk", VK_SECRET):
                raise RuntimeError("VK did not confirm the callback server")
        await sandbox.viber.set_webhook(f"{public_url}/webhooks/viber")
        if not await sandbox.facebook.verify_webhook(
            f"{public_url}/webhooks/facebook", FB_VERIFY_TOKEN
        ):
            raise RuntimeError("Facebook did not verify the webhook")

    # customers

    async def add_customers(self, per_channel: int = 1) -> list[Customer]:
        vk_ids = itertools.count(700001)
        for channel in CHANNELS:
            for _ in range(per_channel):
                index = len(self.customers)
                first, last = f"Cust{index}", "Faults"
                if channel == "telegram":
                    ident = str(self.telegram.add_user(first, last, language_code="en").id)
                elif channel == "vk":
                    ident = str(next(vk_ids))
                    self.sandbox.vk.add_user(int(ident), first, last)
                elif channel == "viber":
                    ident = self.sandbox.viber.add_user(name=f"{first} {last}", subscribed=True)
                elif channel == "facebook":
                    ident = self.sandbox.facebook.add_user(first_name=first, last_name=last)
                else:
                    ident = ""
                self.customers.append(Customer(channel, index, ident, f"{first} {last}"))
        return self.customers

    async def say(self, customer: Customer, text: str, *, patience: float = 60.0) -> None:
        """The customer writes; platforms that call webhooks retry as they do."""
        if customer.channel == "telegram":
            user = self.telegram.world.users[int(customer.ident)]
            self.telegram.user_says(user, text)
        elif customer.channel == "vk":
            await self.sandbox.vk.customer_message(int(customer.ident), text)
        elif customer.channel == "viber":
            await self.sandbox.viber.customer_message(customer.ident, text)
        elif customer.channel == "facebook":
            await self.sandbox.facebook.customer_message(customer.ident, text)
        else:
            await self._widget_say(customer, text, patience)

    async def _widget_say(self, customer: Customer, text: str, patience: float) -> None:
        """The widget's script: retries with the same message id until the bridge stored it."""
        client_id = uuid.uuid4().hex
        deadline = time.monotonic() + patience
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    if not customer.token:
                        customer.token = await self._widget_visitor(http)
                    async with http.post(
                        f"{self.bridge_url}/widget/{WIDGET}/messages",
                        json={"id": client_id, "text": text, "name": customer.name},
                        headers=self._widget_headers(customer),
                    ) as response:
                        if response.status == 200:
                            return
                        wait = float(response.headers.get("Retry-After", "0.2"))
                except (aiohttp.ClientError, TimeoutError):
                    wait = 0.2
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the widget could not store {text!r}")
                await asyncio.sleep(min(wait, 1.0))

    async def _widget_visitor(self, http: aiohttp.ClientSession) -> str:
        async with http.post(
            f"{self.bridge_url}/widget/{WIDGET}/visitors", headers={"Origin": WIDGET_ORIGIN}
        ) as response:
            response.raise_for_status()
            return str((await response.json())["token"])

    def _widget_headers(self, customer: Customer) -> dict[str, str]:
        return {"Origin": WIDGET_ORIGIN, "Authorization": f"Bearer {customer.token}"}

    async def widget_upload(self, customer: Customer, data: bytes, name: str) -> dict[str, Any]:
        """Upload a file as the widget does; returns the bridge's answer (status, body)."""
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            if not customer.token:
                customer.token = await self._widget_visitor(http)
            headers = {
                **self._widget_headers(customer),
                "Content-Type": "application/pdf",
                "X-File-Name": name,
            }
            async with http.post(
                f"{self.bridge_url}/widget/{WIDGET}/uploads", data=data, headers=headers
            ) as response:
                return {"status": response.status, "body": await response.text()}

    async def widget_history(self, customer: Customer) -> list[dict[str, Any]]:
        """The visitor's chat as the widget shows it (the last one read, when the bridge does
        not answer now)."""
        if not customer.token:
            return []
        timeout = aiohttp.ClientTimeout(total=3)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as http,
                http.get(
                    f"{self.bridge_url}/widget/{WIDGET}/history?after=0",
                    headers=self._widget_headers(customer),
                ) as response,
            ):
                if response.status == 200:
                    self._history[customer.index] = list((await response.json())["messages"])
        except (aiohttp.ClientError, TimeoutError):
            pass
        return self._history.get(customer.index, [])

    def deliveries(self) -> str:
        """How the platforms' webhook deliveries went (for a failing scenario's report)."""
        lines = []
        named = {
            "vk": self.sandbox.vk.callbacks,
            "viber": self.sandbox.viber.deliverer,
            "facebook": self.sandbox.facebook.deliverer,
        }
        for name, deliverer in named.items():
            done = sum(1 for d in deliverer.deliveries if d.succeeded)
            open_ = [d for d in deliverer.deliveries if not d.succeeded]
            answers = Counter(
                str(a.status or a.error)[:60] for d in deliverer.deliveries for a in d.attempts
            )
            lines.append(
                f"{name}: {done} delivered, {len(open_)} not (yet); answers {dict(answers)}"
            )
        feed = self.telegram.feed(self.bot)
        lines.append(
            f"telegram: {feed.delivered} webhook deliveries, {feed.dropped} dropped, "
            f"{len(feed.pending)} pending"
        )
        return "\n".join(lines)

    # the operator

    def start_accepting(self) -> None:
        """The operator accepts every new conversation's card as soon as it shows."""
        self._accepting = asyncio.get_running_loop().create_task(self._accept_loop())

    async def _accept_loop(self) -> None:
        while True:
            for message in self.telegram.chat_view(self.group):
                for data in message.callback_data:
                    key = (message.message_id, data)
                    if data.startswith("acc") and key not in self._pressed:
                        self._pressed.add(key)
                        with contextlib.suppress(ValueError):
                            self.telegram.press(
                                self.operator, self.group, message.message_id, data
                            )
            await asyncio.sleep(0.05)

    def find_topics(self) -> None:
        for topic in self.telegram.topics(self.group):
            if topic.deleted:
                continue
            for customer in self.customers:
                if topic.name.startswith(customer.name + " "):
                    customer.thread_id = topic.thread_id

    def reply(self, customer: Customer, text: str) -> None:
        assert customer.thread_id is not None, f"no topic for {customer.name}"
        self.telegram.user_says(self.operator, text, chat_id=self.group, topic=customer.thread_id)

    def reply_document(self, customer: Customer, data: bytes, name: str) -> None:
        assert customer.thread_id is not None
        self.telegram.user_sends_document(
            self.operator, data, name, chat_id=self.group, topic=customer.thread_id
        )

    # what arrived

    def in_topics(self) -> Counter[str]:
        """Customer tags shown in the forum's topics, with how many messages show each."""
        seen: Counter[str] = Counter()
        for message in self.telegram.chat_view(self.group):
            if message.topic is None:
                continue
            text = f"{message.text or ''} {message.caption or ''}"
            seen.update({f"Q{c}N{s}Z" for c, s in CUSTOMER_TAG.findall(text)})
        return seen

    async def at_customers(self) -> Counter[str]:
        """Reply tags each customer received, with how many messages carry each."""
        seen: Counter[str] = Counter()
        for customer in self.customers:
            for text in await self._received_texts(customer):
                seen.update({f"R{c}N{s}Z" for c, s in REPLY_TAG.findall(text)})
        return seen

    async def _received_texts(self, customer: Customer) -> list[str]:
        sandbox = self.sandbox
        if customer.channel == "telegram":
            user_id = int(customer.ident)
            with contextlib.suppress(Exception):
                return [
                    f"{m.text or ''} {m.caption or ''}"
                    for m in self.telegram.chat_view(user_id, bot=self.bot)
                    if m.from_id != user_id
                ]
            return []
        if customer.channel == "vk":
            return [str(m.get("text", "")) for m in sandbox.vk.received(int(customer.ident))]
        if customer.channel == "viber":
            return [
                json.dumps(m) for m in sandbox.viber.sent if m.get("receiver") == customer.ident
            ]
        if customer.channel == "facebook":
            return [json.dumps(m) for m in sandbox.facebook.received(customer.ident)]
        return [json.dumps(m) for m in await self.widget_history(customer) if _from_operator(m)]


def _from_operator(message: dict[str, Any]) -> bool:
    return message.get("from") == "operator"


# --- the bridge's side -------------------------------------------------------------------------


#: The balancer's health checks: every HEALTH_INTERVAL s, a /healthz within HEALTH_TIMEOUT s.
HEALTH_INTERVAL = 0.5
HEALTH_TIMEOUT = 2.0
HOP_HEADERS = ("content-length", "transfer-encoding", "content-encoding")


class RoundRobin:
    """A load balancer in front of several bridge processes, as a Kubernetes Service with a
    readiness probe does it: each request goes to the next backend whose last /healthz answered
    200 within HEALTH_TIMEOUT (all of them when none did); a backend that refuses the
    connection is skipped; any other failure answers 502, and the platform retries."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.healthy = set(backends)
        self._next = itertools.count()
        self._running: RunningApp | None = None
        self._http: aiohttp.ClientSession | None = None
        self._checks: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        assert self._running is not None
        return self._running.base_url

    async def start(self) -> RoundRobin:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._running = await start_app(app)
        self._checks = asyncio.get_running_loop().create_task(self._check_health())
        return self

    async def stop(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
        if self._running is not None:
            await self._running.runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _check_health(self) -> None:
        timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def alive(backend: str) -> bool:
                try:
                    async with http.get(backend + "/healthz") as response:
                        await response.read()
                        return response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    return False

            while True:
                answers = await asyncio.gather(*(alive(b) for b in self.backends))
                self.healthy = {b for b, ok in zip(self.backends, answers, strict=True) if ok}
                await asyncio.sleep(HEALTH_INTERVAL)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        candidates = [b for b in self.backends if b in self.healthy] or self.backends
        for _ in range(len(candidates)):
            backend = candidates[next(self._next) % len(candidates)]
            try:
                async with self._http.request(
                    request.method, backend + request.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    kept = {
                        k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS
                    }
                    return web.Response(status=answer.status, body=payload, headers=kept)
            except aiohttp.ClientConnectorError:
                continue  # nobody listens there: try the next one
            except (aiohttp.ClientError, TimeoutError):
                return web.Response(status=502, text="bad gateway")
        return web.Response(status=502, text="no backend")


@dataclass
class Bridges:
    """One or more `talker-bridge run` processes and the URL platforms call."""

    processes: list[BridgeProcess]
    public_url: str
    balancer: RoundRobin | None = None

    async def stop(self) -> None:
        for process in self.processes:
            await process.stop(grace=5)
        if self.balancer is not None:
            await self.balancer.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- process {n} ---\n{p.log_tail(400)}" for n, p in enumerate(self.processes)
        )


async def start_bridges(
    platforms: Platforms,
    folder: Path,
    *,
    mode: str,
    databases: list[str],
    together: bool = False,
) -> Bridges:
    """Start one process per database URL (all URLs reach one database, or there is one);
    with several, platforms and widget visitors reach them through a round-robin balancer."""
    ports = [free_port() for _ in databases]
    balancer = None
    if len(databases) > 1:
        balancer = await RoundRobin([f"http://127.0.0.1:{p}" for p in ports]).start()
        public_url = balancer.url
    else:
        public_url = f"http://127.0.0.1:{ports[0]}"
    processes = []
    for n, (database, port) in enumerate(zip(databases, ports, strict=True)):
        own = folder / f"process{n}"
        own.mkdir(parents=True, exist_ok=True)
        config = platforms.config(mode=mode, database=database, port=port, public_url=public_url)
        processes.append(BridgeProcess(config, TIME_SCALE, own, log_level="warning"))
    bridges = Bridges(processes, public_url, balancer)
    if together:
        results = await asyncio.gather(
            *(p.start(wait=60) for p in processes), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await bridges.stop()
            raise RuntimeError("\n".join(_why(e) for e in errors))
    else:
        for process in processes:
            await process.start(wait=60)
    await platforms.connect_webhooks(public_url, mode)
    return bridges


def _why(error: BaseException) -> str:
    """The first line of a start failure and the last error line of its log."""
    lines = str(error).splitlines()
    errors = [line for line in lines if "Error:" in line or "error:" in line]
    return " / ".join(dict.fromkeys([lines[0] if lines else repr(error), *errors[-1:]]))


# --- databases ----------------------------------------------------------------------------------


async def fresh_database(cluster: PgCluster) -> str:
    """A new empty database in `cluster`; its URL."""
    import asyncpg

    name = f"faults_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(cluster.url, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return cluster.url_of(name)


async def database_for(backend: str, folder: Path, cluster: PgCluster | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bridge.db'}"
    assert cluster is not None, "PostgreSQL scenarios need a cluster of their own"
    return await fresh_database(cluster)


# --- the burst and the counting -----------------------------------------------------------------


@dataclass
class Burst:
    """Tags sent so far, and when the last one was sent."""

    customer_tags: list[str] = field(default_factory=list)
    reply_tags: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    pending: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return len(self.customer_tags) + len(self.reply_tags)


async def open_conversations(platforms: Platforms, patience: float = 60.0) -> None:
    """Every customer says hello, the operator accepts, and each gets a topic."""
    platforms.start_accepting()
    await asyncio.gather(*(platforms.say(c, f"hello Q{c.index}N0Z") for c in platforms.customers))
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        platforms.find_topics()
        shown = platforms.in_topics()
        if all(c.thread_id for c in platforms.customers) and all(
            shown[f"Q{c.index}N0Z"] for c in platforms.customers
        ):
            return
        await asyncio.sleep(0.1)
    missing = [c.name for c in platforms.customers if not c.thread_id]
    raise RuntimeError(f"conversations did not open (no topic for {missing})")


async def burst(
    platforms: Platforms,
    *,
    fault_at: float,
    fault: Callable[[], Awaitable[None]],
    spacing: float = 0.05,
    messages: int = MESSAGES_PER_CUSTOMER,
    replies: int = REPLIES_PER_CUSTOMER,
) -> tuple[Burst, float]:
    """Send every customer's messages and the operator's replies, calling `fault` once the
    share `fault_at` of them went out. Returns what was sent and when the fault happened."""
    sent = Burst()
    plan: list[tuple[str, Any, int]] = []
    for seq in range(1, max(messages, replies) + 1):
        for customer in platforms.customers:
            if seq <= messages:
                plan.append(("say", customer, seq))
            if seq <= replies:
                plan.append(("reply", customer, seq))
    fault_index = int(len(plan) * fault_at)
    fault_time = time.monotonic()
    pending: list[asyncio.Task[None]] = []

    async def say(customer: Customer, tag: str) -> None:
        try:
            await platforms.say(customer, f"message {tag}")
        except Exception as exc:  # a platform that gave up is a loss, counted below
            sent.errors.append(f"{customer.channel} {tag}: {exc}")

    for n, (kind, customer, seq) in enumerate(plan):
        if n == fault_index:
            fault_time = time.monotonic()
            await fault()
        if kind == "say":
            tag = f"Q{customer.index}N{seq}Z"
            sent.customer_tags.append(tag)
            # Webhook platforms wait for their delivery: run them side by side.
            pending.append(asyncio.create_task(say(customer, tag)))
        else:
            tag = f"R{customer.index}N{seq}Z"
            sent.reply_tags.append(tag)
            platforms.reply(customer, f"answer {tag}")
        await asyncio.sleep(spacing)
    if fault_index >= len(plan):
        fault_time = time.monotonic()
        await fault()
    # Deliveries that still retry go on in the background while `settle` waits.
    sent.pending = pending
    return sent, fault_time


async def settle(
    platforms: Platforms, sent: Burst, fault_time: float, outcome: Outcome, deadline: float
) -> None:
    """Wait until everything sent arrived (or the deadline), then count into `outcome`."""
    stop_at = time.monotonic() + deadline
    while True:
        topics = platforms.in_topics()
        customers = await platforms.at_customers()
        missing = [t for t in sent.customer_tags if not topics[t]]
        missing += [t for t in sent.reply_tags if not customers[t]]
        if not missing:
            outcome.recovery_s = round(max(0.0, time.monotonic() - fault_time), 1)
            break
        if time.monotonic() > stop_at:
            break
        await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # late duplicates
    topics = platforms.in_topics()
    customers = await platforms.at_customers()
    if (
        outcome.recovery_s is None
        and all(topics[t] for t in sent.customer_tags)
        and all(customers[t] for t in sent.reply_tags)
    ):  # the last ones came in while waiting for late duplicates
        outcome.recovery_s = round(time.monotonic() - fault_time, 1)
    outcome.sent = sent.sent
    outcome.lost_tags = [t for t in sent.customer_tags if not topics[t]] + [
        t for t in sent.reply_tags if not customers[t]
    ]
    outcome.lost = len(outcome.lost_tags)
    outcome.duplicates = sum(max(0, topics[t] - 1) for t in sent.customer_tags) + sum(
        max(0, customers[t] - 1) for t in sent.reply_tags
    )
    for task in sent.pending:
        task.cancel()
    await asyncio.gather(*sent.pending, return_exceptions=True)
    outcome.failures.extend(sent.errors[:5])
    if outcome.lost:
        outcome.logs = platforms.deliveries() + "\n" + outcome.logs


# --- the scenarios -------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def world(
    folder: Path, *, mode: str, databases: list[str], together: bool = False
) -> AsyncIterator[tuple[Platforms, Bridges]]:
    platforms = Platforms()
    await platforms.start()
    await platforms.add_customers()
    bridges: Bridges | None = None
    try:
        bridges = await start_bridges(
            platforms, folder, mode=mode, databases=databases, together=together
        )
        yield platforms, bridges
    finally:
        if bridges is not None:
            await bridges.stop()
        await platforms.stop()


async def _nothing() -> None:
    return None


async def chaos_burst(
    folder: Path, mode: str, backend: str, cluster: PgCluster | None = None
) -> Outcome:
    """(a) Every fake injects 10 % 5xx, 5 % timeouts and occasional 429s during the burst."""
    outcome = Outcome("fakes: 5xx, timeouts, 429", mode, backend)
    database = await database_for(backend, folder, cluster)
    async with world(folder, mode=mode, databases=[database]) as (platforms, bridges):
        await open_conversations(platforms)
        platforms.chaos(BURST_CHAOS)
        # More replies than the other scenarios: faults are drawn per call, and VK, Viber and
        # Facebook are called for replies only.
        sent, fault_time = await burst(
            platforms, fault_at=0.0, fault=_nothing, messages=6, replies=16
        )
        # The faults go on until everything arrived: retries must get through them.
        await settle(platforms, sent, fault_time, outcome, RECOVERY_DEADLINE)
        platforms.chaos(None)
        outcome.injected = platforms.injected()
        outcome.allowed_duplicates = platforms.timeouts_after_effect()
        outcome.logs += bridges.logs()
    return outcome


async def database_restart(folder: Path, mode: str, cluster: PgCluster) -> Outcome:
    """(b) PostgreSQL restarts in the middle of the burst: every connection is cut and the
    server is down for DATABASE_DOWN_SECONDS while customers keep writing."""
    outcome = Outcome("database restarted", mode, "postgresql")
    database = await fresh_database(cluster)

    async def restart() -> None:
        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(DATABASE_DOWN_SECONDS)  # a restart or failover takes a while
        await asyncio.to_thread(cluster.start)

    async with world(folder, mode=mode, databases=[database]) as (platforms, bridges):
        await open_conversations(platforms)
        sent, fault_time = await burst(platforms, fault_at=0.4, fault=restart)
        await settle(platforms, sent, fault_time, outcome, LEASED_ROWS_DEADLINE)
        outcome.allowed_duplicates = IN_FLIGHT_PER_PROCESS
        outcome.logs += bridges.logs()
    return outcome


async def process_killed(folder: Path, mode: str, cluster: PgCluster) -> Outcome:
    """(c) Two processes on one PostgreSQL; the leader (the first) gets SIGKILL mid-burst."""
    outcome = Outcome("process SIGKILLed", mode, "postgresql")
    database = await fresh_database(cluster)
    async with world(folder, mode=mode, databases=[database, database]) as (platforms, bridges):
        await open_conversations(platforms)
        victim = bridges.processes[0].process
        assert victim is not None

        async def kill() -> None:
            victim.kill()
            await victim.wait()

        sent, fault_time = await burst(platforms, fault_at=0.4, fault=kill)
        await settle(platforms, sent, fault_time, outcome, LEASED_ROWS_DEADLINE)
        outcome.allowed_duplicates = IN_FLIGHT_PER_PROCESS
        outcome.logs += bridges.logs()
    return outcome


async def leader_frozen(folder: Path, mode: str, cluster: PgCluster) -> Outcome:
    """(d) Two processes; the leader's database connection is frozen (no FIN, no RST) by a
    TCP proxy mid-burst and stays frozen: the standby must take over."""
    outcome = Outcome("leader's connection frozen", mode, "postgresql")
    database = await fresh_database(cluster)
    proxy = await TcpProxy("127.0.0.1", cluster.port).start()
    through_proxy = database.replace(f":{cluster.port}/", f":{proxy.port}/")
    try:
        async with world(folder, mode=mode, databases=[through_proxy, database]) as (
            platforms,
            bridges,
        ):
            await open_conversations(platforms)

            async def freeze() -> None:
                proxy.freeze()

            sent, fault_time = await burst(platforms, fault_at=0.4, fault=freeze)
            await settle(platforms, sent, fault_time, outcome, LEASED_ROWS_DEADLINE)
            outcome.allowed_duplicates = IN_FLIGHT_PER_PROCESS
            outcome.logs += bridges.logs()
            proxy.thaw()
    finally:
        proxy.thaw()
        await proxy.stop()
    return outcome


async def started_together(folder: Path, mode: str, cluster: PgCluster) -> Outcome:
    """(e) Two processes start at the same moment on an empty database (START_ROUNDS times,
    each on a fresh database: the race is short); then the burst runs on the last pair.
    Recovery: seconds until both processes of the last pair answered /healthz."""
    outcome = Outcome("two start on empty db", mode, "postgresql")
    platforms = Platforms()
    await platforms.start()
    await platforms.add_customers()
    try:
        for round_ in range(START_ROUNDS):
            database = await fresh_database(cluster)
            launched = time.monotonic()
            try:
                bridges = await start_bridges(
                    platforms,
                    folder / f"round{round_}",
                    mode=mode,
                    databases=[database, database],
                    together=True,
                )
            except RuntimeError as exc:
                outcome.failures.append(f"round {round_ + 1}: {str(exc)[:400]}")
                outcome.logs = str(exc)
                return outcome
            healthy = round(time.monotonic() - launched, 1)
            if round_ < START_ROUNDS - 1:
                await bridges.stop()
                continue
            try:
                await open_conversations(platforms)
                sent, fault_time = await burst(platforms, fault_at=1.0, fault=_nothing)
                await settle(platforms, sent, fault_time, outcome, RECOVERY_DEADLINE)
                outcome.recovery_s = healthy if outcome.lost == 0 else None
                outcome.logs += bridges.logs()
            finally:
                await bridges.stop()
    finally:
        await platforms.stop()
    return outcome


#: The widget's cap on a visitor's file (adapters/site/limits.py MAX_UPLOAD).
WIDGET_UPLOAD = 5 * 1024 * 1024
#: What a bot may download from Telegram: the largest operator's file a visitor can get.
OPERATOR_FILE = 20 * 1024 * 1024
VK_REUPLOAD = 5 * 1024 * 1024


def _pdf(size: int, seed: int) -> bytes:
    head = b"%PDF-1.4\n"
    body = (secrets.token_bytes(64) + bytes([seed])) * (size // 65 + 1)
    return (head + body)[:size]


async def big_files(folder: Path, mode: str, backend: str, cluster: PgCluster | None) -> Outcome:
    """(f) Big files cross whole: a visitor's 5 MB upload (the widget's cap) reaches the
    operators; an operator's 20 MB file (the most a bot may download) reaches the visitor; an
    operator's 5 MB file reaches a VK customer (downloaded from Telegram, re-uploaded to VK).
    A 20 MB visitor upload is refused with 413, never stored cut short."""
    outcome = Outcome("big files: widget 5+20 MB, VK 5 MB", mode, backend)
    database = await database_for(backend, folder, cluster)
    upload, operator_file, vk_file = (
        _pdf(WIDGET_UPLOAD, 1),
        _pdf(OPERATOR_FILE, 2),
        _pdf(VK_REUPLOAD, 3),
    )
    async with world(folder, mode=mode, databases=[database]) as (platforms, bridges):
        await open_conversations(platforms)
        site = next(c for c in platforms.customers if c.channel == "site")
        vk = next(c for c in platforms.customers if c.channel == "vk")
        started = time.monotonic()
        outcome.sent = 3
        too_big = await platforms.widget_upload(site, _pdf(4 * WIDGET_UPLOAD, 4), "huge.pdf")
        if too_big["status"] != 413:
            outcome.failures.append(f"a 20 MB visitor upload answered {too_big['status']}")
        answer = await platforms.widget_upload(site, upload, "big.pdf")
        if answer["status"] == 200:
            file_id = json.loads(answer["body"])["file"]["id"]
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{platforms.bridge_url}/widget/{WIDGET}/messages",
                    json={"id": uuid.uuid4().hex, "text": "a big file", "files": [file_id]},
                    headers=platforms._widget_headers(site),
                ) as response,
            ):
                if response.status != 200:
                    outcome.failures.append(f"widget message: {response.status}")
        else:
            outcome.failures.append(
                f"a 5 MB visitor upload refused: {answer['status']} {answer['body'][:120]}"
            )
        platforms.reply_document(site, operator_file, "for-the-visitor.pdf")
        platforms.reply_document(vk, vk_file, "for-vk.pdf")
        arrived: set[str] = set()
        deadline = time.monotonic() + RECOVERY_DEADLINE
        while time.monotonic() < deadline and len(arrived) < 3:
            if any(f.data == upload for f in platforms.telegram.world.files.values()):
                arrived.add("visitor's 5 MB")
            if any(f.data == vk_file for f in platforms.sandbox.vk.state.files.values()):
                arrived.add("VK 5 MB")
            if "visitor gets 20 MB" not in arrived and await _visitor_has(
                platforms, site, operator_file
            ):
                arrived.add("visitor gets 20 MB")
            await asyncio.sleep(0.3)
        outcome.lost_tags = [
            n for n in ("visitor's 5 MB", "visitor gets 20 MB", "VK 5 MB") if n not in arrived
        ]
        outcome.lost = len(outcome.lost_tags)
        if not outcome.lost:
            outcome.recovery_s = round(time.monotonic() - started, 1)
        outcome.failures.extend(_short_files(platforms, upload, vk_file))
        outcome.logs += bridges.logs()
    return outcome


async def _visitor_has(platforms: Platforms, visitor: Customer, data: bytes) -> bool:
    """Whether an operator's message in the visitor's history links to exactly `data`."""
    history = await platforms.widget_history(visitor)
    urls = [
        str(a["url"])
        for m in history
        if _from_operator(m)
        for a in m.get("attachments") or []
        if a.get("url")
    ]
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for url in urls:
            full = url if url.startswith("http") else platforms.bridge_url + url
            try:
                async with http.get(full, headers={"Origin": WIDGET_ORIGIN}) as response:
                    if response.status == 200 and await response.read() == data:
                        return True
            except (aiohttp.ClientError, TimeoutError):
                continue
    return False


def _short_files(platforms: Platforms, widget_file: bytes, vk_file: bytes) -> list[str]:
    """Files that arrived cut short (the magic number passed, the size did not)."""
    found = []
    for stored in platforms.telegram.world.files.values():
        if stored.data[:64] == widget_file[:64] and stored.data != widget_file:
            found.append(f"the visitor's file reached Telegram with {len(stored.data)} bytes")
    for stored in platforms.sandbox.vk.state.files.values():
        if stored.data[:64] == vk_file[:64] and stored.data != vk_file:
            found.append(f"VK file arrived with {len(stored.data)} bytes")
    return found


@dataclass(frozen=True)
class Scenario:
    """One row of the table: which fault, in which mode, on which backend."""

    key: str
    run: Callable[[Path, PgCluster | None], Awaitable[Outcome]]
    #: Needs a PostgreSQL cluster of the suite's own (`pg_restartable`).
    postgres: bool


def _need(cluster: PgCluster | None) -> PgCluster:
    assert cluster is not None, "this scenario needs a PostgreSQL cluster of its own"
    return cluster


SCENARIOS: list[Scenario] = [
    Scenario("chaos-polling-sqlite", lambda f, c: chaos_burst(f, "polling", "sqlite"), False),
    Scenario(
        "chaos-webhook-postgresql", lambda f, c: chaos_burst(f, "webhook", "postgresql", c), True
    ),
    Scenario("restart-polling", lambda f, c: database_restart(f, "polling", _need(c)), True),
    Scenario("restart-webhook", lambda f, c: database_restart(f, "webhook", _need(c)), True),
    Scenario("kill-polling", lambda f, c: process_killed(f, "polling", _need(c)), True),
    Scenario("kill-webhook", lambda f, c: process_killed(f, "webhook", _need(c)), True),
    Scenario("freeze-polling", lambda f, c: leader_frozen(f, "polling", _need(c)), True),
    Scenario("freeze-webhook", lambda f, c: leader_frozen(f, "webhook", _need(c)), True),
    Scenario("start-together", lambda f, c: started_together(f, "webhook", _need(c)), True),
    Scenario("files-webhook-sqlite", lambda f, c: big_files(f, "webhook", "sqlite", c), False),
]
