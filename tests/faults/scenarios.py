"""The fault scenarios of issue 13, shared by the tests (tests/faults/) and bench/faults.py.

Each scenario runs the real `talker-bridge run` in one or two subprocesses against the four fake
platforms (served in this process, every channel on: Telegram, VK, Viber, Facebook and a site
widget), lets one customer per channel open a conversation that an operator accepts, then sends
a burst — tagged customer messages on every channel and tagged operator replies in every topic
— and injects its fault in the middle of it. It then waits until everything arrived and counts,
from what the platforms show (the operators' forum topics, each customer's chat). The
platforms' side is in platforms.py, the processes and the balancer in bridges.py.

- lost: tags sent that never arrived (must be 0);
- duplicates: extra copies of a tag (at most the calls that were in flight at the fault);
- recovery: seconds from the fault until the last item arrived.

Tags: a customer message carries `Q<customer>N<seq>Z`, an operator reply `R<customer>N<seq>Z`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from sandbox.chaos import ChaosSettings
from tests.faults.bridges import Bridges, database_for, fresh_database, start_bridges
from tests.faults.platforms import WIDGET, WIDGET_ORIGIN, Customer, Platforms, from_operator
from tests.support.pg_cluster import PgCluster
from tests.support.tcp_proxy import TcpProxy

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
        if from_operator(m)
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
