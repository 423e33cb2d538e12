"""The relay benchmark: the real bridge against the fakes with Telegram's limits, scaled by K.

    .venv/bin/python bench/relay.py                       # every scenario, K=4
    .venv/bin/python bench/relay.py light busy -k 1       # some scenarios, real time
    .venv/bin/python bench/relay.py ingest --database postgresql

The bridge runs as `talker-bridge run -c FILE --time-scale K` in a subprocess; the fake Telegram
runs in this process with every limit multiplied by K (K=4: 80 posts a minute into the group),
so a five-minute scenario takes 75 seconds. Customers are fake Telegram users who write to the
bot; operators press every Accept button as soon as it appears. Latencies are reported in
UNSCALED seconds (measured × K), so they compare with Telegram's real limits; fixed costs
(database, HTTP) are multiplied by K too, which only makes the figures more pessimistic.

Scenarios (issue 4): light, busy, storm, ingest, memory — see docs/performance.md; busy-private
(issue 16): busy in `mode: private` next to busy in `mode: topics`, see bench/_private.py.
Prints one table and writes every figure to bench/results/relay-<time>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/relay.py`: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    BridgeProcess,
    Fakes,
    GroupObserver,
    Operators,
    bridge_config,
    machine,
    percentile,
    scratch_folder,
    union_length,
)

RESULTS = Path(__file__).resolve().parent / "results"
GROUP_BUDGET_PER_MINUTE = 20  # Telegram's published group limit (core.telegram.org/bots/faq)
SCENARIOS = ("light", "busy", "busy-private", "storm", "accept-under-load", "ingest", "memory")


@dataclass(frozen=True)
class Options:
    time_scale: float
    database: str  # sqlite | postgresql
    keep: bool
    seed: int
    busy_minutes: float
    light_minutes: float


class Run:
    """One scenario's world: fakes, the bridge subprocess, observer and (maybe) operators."""

    def __init__(self, options: Options, folder: Path, *, accept: bool, updates: str = "polling"):
        self.options = options
        self.k = options.time_scale
        self.folder = folder
        self.accept = accept
        self.updates = updates
        self.fakes = Fakes(options.time_scale)
        self.observer = GroupObserver(self.fakes)
        self.operators = Operators(self.fakes, self.observer)
        self.bridge: BridgeProcess | None = None
        self.database_url = ""
        self._drop_database: Callable[[], Awaitable[None]] | None = None

    async def __aenter__(self) -> Run:
        from sandbox.runner import free_port

        await self.fakes.start()
        self.database_url, self._drop_database = await make_database(
            self.options.database, self.folder
        )
        config = bridge_config(
            fakes=self.fakes,
            database=self.database_url,
            port=free_port(),
            updates=self.updates,
        )
        self.bridge = BridgeProcess(config, self.k, self.folder)
        return self

    async def start_bridge(self) -> None:
        assert self.bridge is not None
        await self.bridge.start()
        if self.accept:
            self.operators.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.operators.stop()
        if self.bridge is not None:
            code = await self.bridge.stop()
            if code not in (0, None):
                logging.warning("bridge exited with %s:\n%s", code, self.bridge.log_tail())
        await self.fakes.stop()
        if self._drop_database is not None:
            await self._drop_database()

    def unscaled(self, seconds: float) -> float:
        return seconds * self.k

    def scaled(self, seconds: float) -> float:
        return seconds / self.k

    async def wait_visible(self, sent: dict[tuple[int, int], float], patience: float) -> None:
        """Wait (`patience` unscaled seconds) until every sent message is visible in the group."""
        deadline = time.monotonic() + self.scaled(patience)
        while time.monotonic() < deadline:
            self.observer.scan()
            if all(key in self.observer.visible for key in sent):
                return
            await asyncio.sleep(0.05)

    def latencies(self, sent: dict[tuple[int, int], float]) -> list[float]:
        visible = self.observer.visible
        return [self.unscaled(visible[key] - at) for key, at in sent.items() if key in visible]


async def make_database(
    backend: str, folder: Path
) -> tuple[str, Callable[[], Awaitable[None]] | None]:
    """A fresh database URL (SQLite file, or a new PostgreSQL database) and its dropper."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bridge.db'}", None
    import os
    import uuid

    import asyncpg

    admin = os.environ.get("TB_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"tb_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()

    async def drop() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    return f"{admin.rpartition('/')[0]}/{name}", drop


def summary(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": _round(percentile(values, 50)),
        "p95": _round(percentile(values, 95)),
        "max": _round(max(values) if values else None),
    }


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --- scenarios --------------------------------------------------------------------------------


async def light(options: Options, folder: Path) -> dict[str, Any]:
    """5 accepted conversations, one message every 20 s each. Target p95 < 2 s."""
    customers, interval = 5, 20.0
    rng = random.Random(options.seed)
    async with Run(options, folder, accept=True) as run:
        run.fakes.add_customers(customers)
        await run.start_bridge()
        setup = await _open_conversations(run, customers)
        too_many_before = run.fakes.too_many_requests()
        sent = await _write_periodically(
            run, range(customers), interval, options.light_minutes * 60, rng, first_seq=1
        )
        await run.wait_visible(sent, patience=60)
        latencies = run.latencies(sent)
        p95 = percentile(latencies, 95)
        lost = len(sent) - len(latencies)
        too_many = run.fakes.too_many_requests() - too_many_before
        return {
            "customers": customers,
            "messages": len(sent),
            "lost": lost,
            "latency_s": summary(latencies),
            "too_many_requests": too_many,
            "setup": setup,
            "target": "p95 < 2 s",
            "met": lost == 0 and too_many == 0 and p95 is not None and p95 < 2.0,
        }


async def busy(options: Options, folder: Path) -> dict[str, Any]:
    """20 accepted conversations, a message every 15 s each (4× the budget), 5 minutes."""
    customers, interval = 20, 15.0
    rng = random.Random(options.seed)
    async with Run(options, folder, accept=True) as run:
        run.fakes.add_customers(customers)
        await run.start_bridge()
        setup = await _open_conversations(run, customers)
        posts_before = len(run.observer.posts)
        too_many_before = run.fakes.too_many_requests()
        started = time.monotonic()
        sent = await _write_periodically(
            run, range(customers), interval, options.busy_minutes * 60, rng, first_seq=1
        )
        stopped_sending = time.monotonic()
        await run.wait_visible(sent, patience=300)
        run.observer.scan()
        latencies = run.latencies(sent)
        visible = run.observer.visible
        waits = [(at, visible.get(key, time.monotonic())) for key, at in sent.items()]
        waiting, _ = union_length(waits)
        window_end = max(end for _, end in waits)
        posts = run.observer.posts_between(started, window_end)
        budget_per_second = GROUP_BUDGET_PER_MINUTE * run.k / 60
        carrying = [p for p in posts if p[2] > 0]
        bound = customers / GROUP_BUDGET_PER_MINUTE * 60  # T/B in seconds
        p95 = percentile(latencies, 95)
        lost = len(sent) - len(latencies)
        too_many = run.fakes.too_many_requests() - too_many_before
        share = len(_posts_in(posts, waits)) / (budget_per_second * waiting) if waiting else None
        return {
            "conversations": customers,
            "messages": len(sent),
            "sending_seconds": round(run.unscaled(stopped_sending - started), 1),
            "lost": lost,
            "too_many_requests": too_many,
            "too_many_requests_warmup": too_many_before,
            "group_posts": len(posts),
            "group_posts_by_method": _methods(posts),
            "budget_share_while_waiting": _round(share, 3),
            "messages_per_post": _round(len(latencies) / len(carrying), 2) if carrying else None,
            "messages_per_group_post_any": _round(len(latencies) / len(posts), 2)
            if posts
            else None,
            "latency_s": summary(latencies),
            "bound_s": bound,
            "p95_over_bound": _round(p95 / bound, 3) if p95 is not None else None,
            "posts_before_window": posts_before,
            "setup": setup,
            "target": "lost 0, 429s 0, share >= 0.9, p95 <= 1.25 x bound",
            "met": lost == 0
            and too_many == 0
            and (share or 0) >= 0.9
            and p95 is not None
            and p95 <= 1.25 * bound,
        }


async def storm(options: Options, folder: Path) -> dict[str, Any]:
    """60 new customers within 30 s, nobody accepts: every inquiry visible in the feed."""
    customers, within = 60, 30.0
    rng = random.Random(options.seed)
    async with Run(options, folder, accept=False) as run:
        run.fakes.add_customers(customers)
        await run.start_bridge()
        offsets = sorted((rng.uniform(0, within), c) for c in range(customers))
        started = time.monotonic()
        sent: dict[tuple[int, int], float] = {}
        for offset, customer in offsets:
            delay = started + run.scaled(offset) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[(customer, 0)] = run.fakes.say(customer, 0, "I need help")
        await run.wait_visible(sent, patience=customers * 3.5 + 120)
        run.observer.scan()
        latencies = run.latencies(sent)
        posts = run.observer.posts_between(started, time.monotonic())
        p95 = percentile(latencies, 95)
        lost = len(sent) - len(latencies)
        too_many = run.fakes.too_many_requests()
        return {
            "customers": customers,
            "lost": lost,
            "too_many_requests": too_many,
            "latency_s": summary(latencies),
            "group_posts": len(posts),
            "group_posts_by_method": _methods(posts),
            "target": "p95 <= 30 s, lost 0, 429s 0",
            "met": lost == 0 and too_many == 0 and p95 is not None and p95 <= 30,
        }


async def _write_periodically(
    run: Run,
    customers: range,
    interval: float,
    duration: float,
    rng: random.Random,
    *,
    first_seq: int = 0,
) -> dict[tuple[int, int], float]:
    """Each customer writes every `interval` (unscaled) s for `duration` s, random phases."""
    schedule: list[tuple[float, int, int]] = []
    for customer in customers:
        phase = rng.uniform(0, interval)
        at, seq = phase, first_seq
        while at < duration:
            schedule.append((at, customer, seq))
            at += interval
            seq += 1
    schedule.sort()
    started = time.monotonic()
    sent: dict[tuple[int, int], float] = {}
    for at, customer, seq in schedule:
        delay = started + run.scaled(at) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[(customer, seq)] = run.fakes.say(customer, seq)
        run.observer.scan()
    return sent


async def _open_conversations(run: Run, customers: int) -> dict[str, Any]:
    """Warm-up: every customer says hello, operators accept, topics open, history is posted.

    Returns what that cost: the first message's latency to its card, and the posts it took.
    """
    started = time.monotonic()
    hello = {(c, 0): run.fakes.say(c, 0) for c in range(customers)}
    await _wait_topics(run, customers, hello, patience=customers * 12 * 3.2 + 120)
    await asyncio.sleep(run.scaled(10))  # the last card edits and the dashboard settle
    run.observer.scan()
    card_latencies = run.latencies(hello)
    return {
        "first_message_to_card_s": summary(card_latencies),
        "posts": len(run.observer.posts),
        "seconds": round(run.unscaled(time.monotonic() - started), 1),
        "too_many_requests": run.fakes.too_many_requests(),
    }


async def _wait_topics(
    run: Run, customers: int, hello: dict[tuple[int, int], float], patience: float
) -> None:
    """Wait until every conversation has its topic and its first message was relayed there."""
    deadline = time.monotonic() + run.scaled(patience)
    fake, chat = run.fakes.telegram, run.fakes.group_chat_id
    while time.monotonic() < deadline:
        run.observer.scan()
        topics = [t for t in fake.topics(chat) if not t.closed]
        relayed = sum(
            1
            for c in range(customers)
            if any(f"Q{c}N0Z" in (m.text or "") for m in _topic_messages(run, c))
        )
        if len(topics) >= customers and relayed >= customers:
            return
        await asyncio.sleep(run.scaled(1))
    raise RuntimeError(f"warm-up did not finish: {len(topics)} topics, {relayed} relayed")


def _topic_messages(run: Run, customer: int) -> list[Any]:
    fake, chat = run.fakes.telegram, run.fakes.group_chat_id
    name = f"Customer{customer} Bench{customer}"
    for topic in fake.topics(chat):
        if topic.name.startswith(name + " "):
            return fake.chat_view(chat, topic.thread_id)
    return []


def _posts_in(posts: list[tuple[float, str, int]], waits: list[tuple[float, float]]) -> list:
    _, merged = union_length(waits)
    return [p for p in posts if any(start <= p[0] <= end for start, end in merged)]


def _methods(posts: list[tuple[float, str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for _, method, _ in posts:
        out[method] = out.get(method, 0) + 1
    return out


# --- busy-private: see bench/_private.py ------------------------------------------------------


async def busy_private(options: Options, folder: Path) -> dict[str, Any]:
    from bench._private import busy_private_scenario

    return await busy_private_scenario(options, folder, Run, busy)


# --- ingest and memory: see bench/_ingest.py --------------------------------------------------


async def accept_under_load(options: Options, folder: Path) -> dict[str, Any]:
    from bench._accept import accept_under_load as scenario

    return await scenario(options, folder, Run)


async def ingest(options: Options, folder: Path) -> dict[str, Any]:
    from bench._ingest import ingest_scenario

    return await ingest_scenario(options, folder, Run)


async def memory(options: Options, folder: Path) -> dict[str, Any]:
    from bench._ingest import memory_scenario

    return await memory_scenario(options, folder, Run)


RUNNERS: dict[str, Callable[[Options, Path], Awaitable[dict[str, Any]]]] = {
    "light": light,
    "busy": busy,
    "busy-private": busy_private,
    "storm": storm,
    "accept-under-load": accept_under_load,
    "ingest": ingest,
    "memory": memory,
}


# --- the table --------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    """One plain-text table of the headline figures."""
    rows: list[tuple[str, str, str, str]] = []
    for name, figures in results["scenarios"].items():
        if "error" in figures:
            rows.append((name, "error", figures["error"][:60], ""))
            continue
        rows.extend(_rows(name, figures))
    widths = [
        max(len(r[i]) for r in [*rows, ("scenario", "figure", "value", "target")])
        for i in range(4)
    ]
    lines = [
        "  ".join(
            h.ljust(w)
            for h, w in zip(("scenario", "figure", "value", "target"), widths, strict=True)
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def _rows(name: str, f: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    ok = "met" if f.get("met") else "NOT met"
    if name == "light":
        lat = f["latency_s"]
        return [
            (name, "latency p50 / p95", f"{lat['p50']} s / {lat['p95']} s", f"p95 < 2 s ({ok})"),
            (name, "lost / 429s", f"{f['lost']} / {f['too_many_requests']}", "0 / 0"),
        ]
    if name == "busy":
        lat = f["latency_s"]
        return [
            (name, "lost / 429s", f"{f['lost']} / {f['too_many_requests']}", "0 / 0"),
            (name, "budget used while waiting", f"{f['budget_share_while_waiting']}", ">= 0.9"),
            (name, "customer messages per post", f"{f['messages_per_post']}", ""),
            (
                name,
                "latency p50 / p95 (bound T/B)",
                f"{lat['p50']} s / {lat['p95']} s ({f['bound_s']:.0f} s)",
                f"p95 <= 1.25 x bound ({ok})",
            ),
        ]
    if name == "busy-private":
        from bench._private import busy_private_rows

        return busy_private_rows(name, f)
    if name == "storm":
        lat = f["latency_s"]
        return [
            (name, "visible p50 / p95", f"{lat['p50']} s / {lat['p95']} s", f"p95 <= 30 s ({ok})"),
            (name, "lost / 429s", f"{f['lost']} / {f['too_many_requests']}", "0 / 0"),
        ]
    if name == "accept-under-load":
        topic, card = f["accept_to_topic_with_history_s"], f["accept_to_card_state_s"]
        return [
            (
                name,
                "Accept -> topic with history p50 / p95",
                f"{topic['p50']} s / {topic['p95']} s ({f['topics_shown']}/{f['presses']})",
                f"p95 <= 6 s ({ok})",
            ),
            (name, "Accept -> card state p50 / p95", f"{card['p50']} s / {card['p95']} s", ""),
            (
                name,
                "group posts a minute / 429s",
                f"{f['group_posts_per_minute']} / {f['too_many_requests']}",
                "<= 20 / 0",
            ),
        ]
    if name == "ingest":
        out = []
        for backend, figures in f["backends"].items():
            out.append(
                (
                    name,
                    f"webhooks stored/s ({backend})",
                    f"{figures['webhook_per_second']}",
                    ">= 1000/s on SQLite",
                )
            )
            core = figures.get("core")
            if core:
                out.append(
                    (
                        name,
                        f"core stored/s ({backend}): 1 txn/msg -> group -> batch",
                        f"{core['one_per_transaction']} -> {core['group_commit']}"
                        f" -> {core['batch_path']}",
                        "",
                    )
                )
        floor = f.get("floor_per_second")
        if floor:
            out.append(
                (
                    name,
                    "floor/s: http -> +Update -> +Dispatcher",
                    " -> ".join(str(floor[stage]) for stage in ("http", "parse", "dispatch")),
                    "",
                )
            )
        return out
    if name == "memory":
        return [
            (
                name,
                f"RSS with {f['conversations']} open conversations",
                f"{f['rss_mb']} MB (peak {f['peak_rss_mb']} MB)",
                f"{f['target']} ({ok})",
            )
        ]
    return [(name, "figures", json.dumps(f)[:60], "")]


async def main_async(names: list[str], options: Options) -> dict[str, Any]:
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_scale": options.time_scale,
        "database": options.database,
        "machine": machine(),
        "scenarios": {},
    }
    for name in names:
        print(f"… {name} (K={options.time_scale})", file=sys.stderr, flush=True)
        began = time.monotonic()
        async with scratch_folder(options.keep) as folder:
            try:
                figures = await RUNNERS[name](options, folder)
            except Exception as exc:  # one broken scenario must not hide the others' figures
                logging.exception("scenario %s failed", name)
                figures = {"error": f"{type(exc).__name__}: {exc}"}
        figures["wall_seconds"] = round(time.monotonic() - began, 1)
        results["scenarios"][name] = figures
    return results


def parse_args(argv: list[str] | None = None) -> tuple[list[str], Options, Path | None]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO", help=", ".join(SCENARIOS))
    parser.add_argument("-k", "--time-scale", type=float, default=4.0, help="K (default 4)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--busy-minutes", type=float, default=5.0)
    parser.add_argument("--light-minutes", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="keep each run's folder (logs, db)")
    parser.add_argument("--json", type=Path, default=None, help="where to write the figures")
    args = parser.parse_args(argv)
    if not args.time_scale > 0:
        parser.error("--time-scale must be positive")
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; choose from {', '.join(SCENARIOS)}")
    names = list(args.scenarios) or list(SCENARIOS)
    options = Options(
        time_scale=args.time_scale,
        database=args.database,
        keep=args.keep,
        seed=args.seed,
        busy_minutes=args.busy_minutes,
        light_minutes=args.light_minutes,
    )
    return names, options, args.json


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names, options, json_path = parse_args(argv)
    results = asyncio.run(main_async(names, options))
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = json_path or RESULTS / f"relay-{stamp}.json"
    path.write_text(json.dumps(results, indent=2))
    print(f"\nfigures written to {path}")
    return 0 if all("error" not in f for f in results["scenarios"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
