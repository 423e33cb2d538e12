"""The `busy-private` scenario of bench/relay.py (issue 16): the busy load in `mode: private`.

    .venv/bin/python bench/relay.py busy-private

The same load as `busy` (20 accepted conversations, a message every 15 s each: 80 a minute,
4x a group's 20-a-minute budget, for `--busy-minutes`), with the same fakes at Telegram's
limits scaled by K, but the group is in `mode: private`: the bot has threaded mode on, four
operators started it, and each Accept opens the conversation in a topic of the claimer's
private chat (5 conversations per operator). Measured: a customer's message -> first visible
in the claimer's private topic (the call that showed its tag, in UNSCALED seconds).

The bound: a private chat takes about one post a second, so with 5 conversations waiting in
one operator's chat each gets a post at least every 5 s (T conversations / B posts a second,
as `busy` measures T/B for the group). Target: lost 0, 429s 0, p95 <= 1.25 x 5 s. The floor
(measured in the same run, before the load): one message at a time, nothing else queued.

At this load each operator's chat gets 20 customer messages a minute, a third of its own
budget, so the private p95 sits near the floor, far below the bound; the bound is what a chat
holding 5 conversations guarantees when it is full.

Then the same load runs in `mode: topics` (the `busy` scenario, bound T/B = 60 s), and both
rows are printed with the ratio of their p95.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._harness import TAG, counts_against_group, percentile

CONVERSATIONS = 20
OPERATORS = 4
INTERVAL = 15.0  # unscaled seconds between one customer's messages, as in `busy`
PER_CHAT_PER_SECOND = 1.0  # Telegram: about one message a second into one private chat
FLOOR_PROBES = 4  # single messages measured before the load, one per operator
Scenario = Callable[[Any, Path], Awaitable[dict[str, Any]]]


def private_bound() -> float:
    """Unscaled seconds: T conversations in one operator's chat at B posts a second."""
    return CONVERSATIONS / OPERATORS / PER_CHAT_PER_SECOND


@dataclass
class PrivateObserver:
    """Follows the fake's call log: what the bot posted into the operators' private chats."""

    fakes: Any
    chats: set[int]
    visible: dict[tuple[int, int], float] = field(default_factory=dict)
    in_chat: dict[tuple[int, int], int] = field(default_factory=dict)  # tag -> operator chat
    posts: list[tuple[float, int]] = field(default_factory=list)  # (time, chat)
    methods: dict[str, int] = field(default_factory=dict)
    _seen: int = 0

    def scan(self) -> None:
        calls = self.fakes.telegram._calls  # the fake's own log, read in place (no copy)
        for record in calls[self._seen :]:
            if record.status != 200 or not counts_against_group(record.method):
                continue
            try:
                chat = int(record.params.get("chat_id"))
            except (TypeError, ValueError):
                continue
            if chat not in self.chats:
                continue
            self.posts.append((record.time, chat))
            self.methods[record.method] = self.methods.get(record.method, 0) + 1
            if not record.params.get("message_thread_id"):
                continue  # only what reached a topic counts as "in the claimer's topic"
            texts = " ".join(str(record.params.get(k) or "") for k in ("text", "caption"))
            for customer, seq in TAG.findall(texts):
                key = (int(customer), int(seq))
                if key not in self.visible:
                    self.visible[key] = record.time
                    self.in_chat[key] = chat
        self._seen = len(calls)

    def busiest_second(self, start: float, end: float, scaled_second: float) -> int:
        """The most posts one private chat received in any (scaled) second of [start, end]."""
        best = 0
        by_chat: dict[int, list[float]] = {}
        for at, chat in self.posts:
            if start <= at <= end:
                by_chat.setdefault(chat, []).append(at)
        for times in by_chat.values():
            low = 0
            for high, at in enumerate(times):
                while times[low] < at - scaled_second:
                    low += 1
                best = max(best, high - low + 1)
        return best


async def busy_private_scenario(
    options: Any, folder: Path, run_class: Any, topics_scenario: Scenario
) -> dict[str, Any]:
    """The load in `mode: private`, then the same load in `mode: topics` (`busy`)."""
    (folder / "private").mkdir()
    (folder / "topics").mkdir()
    private = await _private(options, folder / "private", run_class)
    try:
        topics = await topics_scenario(options, folder / "topics")
    except Exception as exc:  # the private figures still count
        topics = {"error": f"{type(exc).__name__}: {exc}"}
    private_p95 = private["latency_s"]["p95"]
    topics_p95 = (topics.get("latency_s") or {}).get("p95")
    ratio = topics_p95 / private_p95 if topics_p95 and private_p95 else None
    return {
        "private": private,
        "topics": topics,
        "topics_p95_over_private_p95": None if ratio is None else round(ratio, 1),
        "target": private["target"],
        "met": private["met"],
    }


async def _private(options: Any, folder: Path, run_class: Any) -> dict[str, Any]:
    from sandbox.server import SANDBOX_TELEGRAM_TOKEN

    rng = random.Random(options.seed)
    run = run_class(options, folder, accept=True)
    fake = run.fakes.telegram
    fake.set_topics_enabled(SANDBOX_TELEGRAM_TOKEN, True)  # BotFather's threaded mode
    for n in range(len(run.fakes.operators), OPERATORS):  # the sandbox seeds two operators
        operator = fake.add_user(f"Operator{n}", "Bench", username=f"bench_op{n}")
        fake.join(operator, run.fakes.group_chat_id)
        run.fakes.operators.append(operator)  # listed in the config's group.operators
    async with run:
        assert run.bridge is not None
        run.bridge.config["groups"]["support"]["mode"] = "private"
        observer = PrivateObserver(run.fakes, {op.id for op in run.fakes.operators})
        run.fakes.add_customers(CONVERSATIONS)
        await run.start_bridge()
        await _operators_start_the_bot(run)
        setup = await _open_conversations(run, observer)
        floor = await _floor(run, observer)
        too_many_before = run.fakes.too_many_requests()
        started = time.monotonic()
        sent = await _write_periodically(run, observer, options.busy_minutes * 60, rng)
        stopped_sending = time.monotonic()
        await _wait_visible(run, observer, sent, patience=300)
        latencies = [
            run.unscaled(observer.visible[k] - at)
            for k, at in sent.items()
            if k in observer.visible
        ]
        per_chat = {op.id: 0 for op in run.fakes.operators}
        for key in sent:
            if key in observer.in_chat:
                per_chat[observer.in_chat[key]] += 1
        end = max(observer.visible.values(), default=time.monotonic())
        posts = [p for p in observer.posts if started <= p[0] <= end]
        p95 = percentile(latencies, 95)
        lost = len(sent) - len(latencies)
        too_many = run.fakes.too_many_requests() - too_many_before
        bound = private_bound()
        return {
            "conversations": CONVERSATIONS,
            "operators": OPERATORS,
            "messages": len(sent),
            "sending_seconds": round(run.unscaled(stopped_sending - started), 1),
            "lost": lost,
            "too_many_requests": too_many,
            "too_many_requests_warmup": too_many_before,
            "private_posts": len(posts),
            "private_posts_by_method_whole_run": dict(observer.methods),
            "messages_per_operator_chat": sorted(per_chat.values()),
            "most_posts_in_one_chat_in_one_second": observer.busiest_second(
                started, end, run.scaled(1.0)
            ),
            "group_posts_in_window": len(run.observer.posts_between(started, end)),
            "latency_s": _summary(latencies),
            "floor_s": floor,
            "bound_s": bound,
            "p95_over_bound": None if p95 is None else round(p95 / bound, 3),
            "setup": setup,
            "target": f"lost 0, 429s 0, p95 <= 1.25 x bound = {1.25 * bound:g} s",
            "met": lost == 0 and too_many == 0 and p95 is not None and p95 <= 1.25 * bound,
        }


async def _operators_start_the_bot(run: Any, patience: float = 60.0) -> None:
    """Each operator sends /start to the bot; returns once the bridge has recorded it."""
    for operator in run.fakes.operators:
        run.fakes.telegram.user_says(operator, "/start")
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if await _started_count(run.database_url) >= len(run.fakes.operators):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the bridge did not record the operators' /start")


async def _started_count(url: str) -> int:
    query = "SELECT count(*) FROM operators WHERE private_chat_started"
    if url.startswith("sqlite:///"):
        try:
            with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
                return int(db.execute(query).fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet, or locked for a moment
            return 0
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(query))
    finally:
        await conn.close()


async def _open_conversations(run: Any, observer: PrivateObserver) -> dict[str, Any]:
    """Warm-up: every customer says hello, operators accept, the history reaches each topic."""
    started = time.monotonic()
    hello = {(c, 0): run.fakes.say(c, 0) for c in range(CONVERSATIONS)}
    await _wait_visible(run, observer, hello, patience=CONVERSATIONS * 12 * 3.2 + 120)
    missing = [k for k in hello if k not in observer.visible]
    if missing:
        raise RuntimeError(f"warm-up did not finish: {len(missing)} conversations not in topics")
    await asyncio.sleep(run.scaled(10))  # the last card edits and the dashboard settle
    observer.scan()
    topics = sum(len(run.fakes.telegram.topics(op.id)) for op in run.fakes.operators)
    return {
        "hello_to_private_topic_s": _summary(
            [run.unscaled(observer.visible[k] - at) for k, at in hello.items()]
        ),
        "private_topics": topics,
        "seconds": round(run.unscaled(time.monotonic() - started), 1),
        "too_many_requests": run.fakes.too_many_requests(),
    }


async def _floor(run: Any, observer: PrivateObserver) -> dict[str, float | None]:
    """One message at a time into a quiet bridge (a customer of each operator in turn)."""
    probes: list[float] = []
    for n in range(FLOOR_PROBES):
        customer = n * (CONVERSATIONS // FLOOR_PROBES)
        key = (customer, 10_000 + n)
        sent = {key: run.fakes.say(customer, key[1])}
        await _wait_visible(run, observer, sent, patience=60)
        if key in observer.visible:
            probes.append(run.unscaled(observer.visible[key] - sent[key]))
        await asyncio.sleep(run.scaled(2))  # the chat's pace bucket refills
    return _summary(probes)


async def _write_periodically(
    run: Any, observer: PrivateObserver, duration: float, rng: random.Random
) -> dict[tuple[int, int], float]:
    """Each customer writes every INTERVAL (unscaled) s for `duration` s, random phases."""
    schedule: list[tuple[float, int, int]] = []
    for customer in range(CONVERSATIONS):
        at, seq = rng.uniform(0, INTERVAL), 1
        while at < duration:
            schedule.append((at, customer, seq))
            at += INTERVAL
            seq += 1
    schedule.sort()
    started = time.monotonic()
    sent: dict[tuple[int, int], float] = {}
    for at, customer, seq in schedule:
        delay = started + run.scaled(at) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[(customer, seq)] = run.fakes.say(customer, seq)
        observer.scan()
    return sent


async def _wait_visible(
    run: Any, observer: PrivateObserver, sent: dict[tuple[int, int], float], patience: float
) -> None:
    """Wait (`patience` unscaled seconds) until every sent message is in a private topic."""
    deadline = time.monotonic() + run.scaled(patience)
    while time.monotonic() < deadline:
        observer.scan()
        if all(key in observer.visible for key in sent):
            return
        await asyncio.sleep(0.05)


def _summary(values: list[float]) -> dict[str, float | None]:
    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 2)

    return {
        "p50": rounded(percentile(values, 50)),
        "p95": rounded(percentile(values, 95)),
        "max": rounded(max(values) if values else None),
    }


def busy_private_rows(name: str, f: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The table rows: private next to topics, the same load, and the ratio of their p95."""
    private, topics = f["private"], f["topics"]
    ok = "met" if f.get("met") else "NOT met"
    lat, floor = private["latency_s"], private["floor_s"]
    rows = [
        (
            name,
            "private: lost / 429s",
            f"{private['lost']} / {private['too_many_requests']}",
            "0 / 0",
        ),
        (
            name,
            "private: floor p50 (one message, quiet)",
            f"{floor['p50']} s",
            "",
        ),
        (
            name,
            "private: latency p50 / p95 (bound 5/chat at 1/s)",
            f"{lat['p50']} s / {lat['p95']} s ({private['bound_s']:g} s)",
            f"p95 <= 1.25 x bound = {1.25 * private['bound_s']:g} s ({ok})",
        ),
    ]
    if "error" in topics:
        rows.append((name, "topics: error", topics["error"][:60], ""))
        return rows
    tl = topics["latency_s"]
    rows.append(
        (
            name,
            "topics: latency p50 / p95 (bound T/B)",
            f"{tl['p50']} s / {tl['p95']} s ({topics['bound_s']:.0f} s)",
            "same load, one forum group",
        )
    )
    rows.append((name, "topics p95 / private p95", f"{f['topics_p95_over_private_p95']}x", ""))
    return rows
