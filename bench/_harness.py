"""The relay benchmark's machinery: the fakes in this process, the bridge as a subprocess.

- `Fakes`: the sandbox's fake Telegram (and the other fakes) served on a free local port, with
  every rate limit multiplied by K. Customers write through its Python API (the in-process form
  of its control API); every Bot API call it answers is logged with a monotonic time stamp.
- `BridgeProcess`: `talker-bridge run -c FILE --time-scale K` in a subprocess, with its own
  config file and database; reads its resident memory from /proc. With `BENCH_PROFILE=FILE`
  in the environment it runs under cProfile and writes the profile to FILE when it stops.
- `GroupObserver`: reads the fake's call log and tells when each tagged customer message first
  became visible in the operators' group (a card caption, a relayed copy, a digest), how many
  posts the group received and when, and which Accept buttons appeared.
- `Operators`: simulated operators who press every Accept button as soon as it appears.

Customer messages carry a tag `Q<customer>N<seq>Z` so that a message is recognised in any post
that shows it, merged or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = str(Path(__file__).resolve().parent.parent)
TAG = re.compile(r"Q(\d+)N(\d+)Z")
_POSTING_PREFIXES = ("send", "edit", "copy", "forward", "delete", "pin", "unpin")


def tag(customer: int, seq: int) -> str:
    """The tag that identifies message `seq` of customer `customer` wherever it is shown."""
    return f"Q{customer}N{seq}Z"


def counts_against_group(method: str) -> bool:
    """Whether a Bot API call posts into a chat (Telegram's 20-a-minute group budget)."""
    name = method.lower()
    return name.startswith(_POSTING_PREFIXES) or name.endswith("forumtopic")


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def union_length(intervals: list[tuple[float, float]]) -> tuple[float, list[tuple[float, float]]]:
    """Total length of the union of intervals, and the merged intervals."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return sum(end - start for start, end in merged), merged


# --- the fakes --------------------------------------------------------------------------------


class Fakes:
    """The sandbox's fakes on a free port, limits scaled by `time_scale`."""

    def __init__(self, time_scale: float) -> None:
        from sandbox.server import Sandbox

        self.time_scale = time_scale
        self.sandbox = Sandbox(time_scale=time_scale)
        self.telegram = self.sandbox.telegram
        self.group_chat_id = self.sandbox.group_chat_id
        self.operators = self.sandbox.operators
        self._running: Any = None
        self.customers: list[Any] = []

    @property
    def base_url(self) -> str:
        return self._running.base_url

    @property
    def telegram_url(self) -> str:
        from sandbox.server import PREFIXES

        return self.base_url + PREFIXES["telegram"]

    async def start(self) -> None:
        from sandbox.runner import start_app

        self._running = await start_app(self.sandbox.build_app(), "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._running is not None:
            await self._running.runner.cleanup()
            self._running = None

    def add_customers(self, count: int) -> list[Any]:
        """`count` more Telegram customers (fake users with distinct names)."""
        start = len(self.customers)
        for i in range(start, start + count):
            self.customers.append(
                self.telegram.add_user(f"Customer{i}", f"Bench{i}", language_code="en")
            )
        return self.customers[start:]

    def say(self, customer_index: int, seq: int, words: str = "hello") -> float:
        """Customer `customer_index` writes message `seq`; returns the monotonic send time."""
        user = self.customers[customer_index]
        sent_at = time.monotonic()
        self.telegram.user_says(user, f"{words} {tag(customer_index, seq)}")
        return sent_at

    def too_many_requests(self) -> int:
        return self.telegram.too_many_requests.total


# --- the bridge -------------------------------------------------------------------------------


def bridge_config(
    *,
    fakes: Fakes,
    database: str,
    port: int,
    updates: str = "polling",
    webhook_secret: str = "bench-secret",
    dashboard: bool = True,
) -> dict[str, Any]:
    """A bridge config that talks to `fakes`: one forum group, Telegram customers only."""
    from sandbox.server import SANDBOX_TELEGRAM_TOKEN

    telegram: dict[str, Any] = {
        "token": SANDBOX_TELEGRAM_TOKEN,
        "api_url": fakes.telegram_url,
        "updates": updates,
    }
    if updates == "webhook":
        telegram["webhook_secret"] = webhook_secret
    return {
        "language": "en",
        "database": database,
        "http": {"host": "127.0.0.1", "port": port, "public_url": f"http://127.0.0.1:{port}"},
        "telegram": telegram,
        "groups": {
            "support": {
                "chat_id": fakes.group_chat_id,
                "mode": "topics",
                "operators": [op.id for op in fakes.operators],
                "dashboard": dashboard,
            }
        },
        "channels": {"telegram": {"group": "support"}},
    }


@dataclass
class BridgeProcess:
    """`talker-bridge run` as a subprocess; `start()` waits until /healthz answers."""

    config: dict[str, Any]
    time_scale: float
    folder: Path
    log_level: str = "warning"
    process: asyncio.subprocess.Process | None = None
    peak_rss_kb: int = 0

    @property
    def port(self) -> int:
        return int(self.config["http"]["port"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "bridge.log"

    async def start(self, wait: float = 60.0) -> None:
        import aiohttp

        config_path = self.folder / "bridge.yaml"
        config_path.write_text(yaml.safe_dump(self.config))
        script = Path(sys.executable).parent / "talker-bridge"
        launcher = [str(script)] if script.exists() else [sys.executable, "-m", "app"]
        if profile := os.environ.get("BENCH_PROFILE"):  # cProfile the bridge into that file
            launcher = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "app"]
        launcher.append("run")
        command = [
            *launcher,
            "-c",
            str(config_path),
            "--time-scale",
            str(self.time_scale),
            "--log-level",
            self.log_level,
        ]
        log = self.log_path.open("ab")
        # The checkout's own code, even when the installed package points at another checkout
        # (an editable install's finder comes after PYTHONPATH).
        path = os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH", "")) if p)
        self.process = await asyncio.create_subprocess_exec(
            *command, stdout=log, stderr=log, cwd=REPO, env={**os.environ, "PYTHONPATH": path}
        )
        log.close()
        deadline = time.monotonic() + wait
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"the bridge exited at start:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the bridge did not become healthy:\n{self.log_tail()}")

    def rss_kb(self) -> int:
        """Resident memory of the bridge process now (kB); also tracks the peak."""
        if self.process is None:
            return 0
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields["VmRSS"].split()[0])
        hwm = int(fields.get("VmHWM", "0 kB").split()[0])
        self.peak_rss_kb = max(self.peak_rss_kb, rss, hwm)
        return rss

    async def stop(self, grace: float = 20.0) -> int | None:
        """SIGTERM, wait; SIGKILL after `grace` seconds. Returns the exit code."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


# --- what the group shows ---------------------------------------------------------------------


@dataclass
class GroupObserver:
    """Follows the fake's call log: group posts, tags made visible, Accept buttons shown."""

    fakes: Fakes
    posts: list[tuple[float, str, int]] = field(default_factory=list)  # (time, method, tags)
    visible: dict[tuple[int, int], float] = field(default_factory=dict)
    buttons: list[tuple[int, str]] = field(default_factory=list)  # (message_id, data)
    methods: dict[str, int] = field(default_factory=dict)
    _seen_calls: int = 0
    _seen_buttons: set[tuple[int, str]] = field(default_factory=set)

    def scan(self) -> None:
        calls = self.fakes.telegram._calls  # the fake's own log, read in place (no copy)
        group = self.fakes.group_chat_id
        for record in calls[self._seen_calls :]:
            if record.status != 200 or not counts_against_group(record.method):
                continue
            chat = record.params.get("chat_id")
            try:
                if int(chat) != group:
                    continue
            except (TypeError, ValueError):
                continue
            texts = " ".join(
                str(record.params.get(key) or "") for key in ("text", "caption", "reply_markup")
            )
            tags = TAG.findall(texts)
            self.posts.append((record.time, record.method, len(tags)))
            self.methods[record.method] = self.methods.get(record.method, 0) + 1
            for customer, seq in tags:
                self.visible.setdefault((int(customer), int(seq)), record.time)
            self._collect_buttons(record.result)
        self._seen_calls = len(calls)

    def _collect_buttons(self, result: Any) -> None:
        if not isinstance(result, dict):
            return
        message_id = result.get("message_id")
        rows = (result.get("reply_markup") or {}).get("inline_keyboard") or []
        for row in rows:
            for button in row:
                data = button.get("callback_data") or ""
                key = (message_id, data)
                if data.startswith("acc:") and key not in self._seen_buttons:
                    self._seen_buttons.add(key)
                    self.buttons.append(key)

    def posts_between(self, start: float, end: float) -> list[tuple[float, str, int]]:
        return [post for post in self.posts if start <= post[0] <= end]


class Operators:
    """Press every Accept button as soon as it appears (round robin over the operators)."""

    def __init__(self, fakes: Fakes, observer: GroupObserver, *, interval: float = 0.05) -> None:
        self.fakes = fakes
        self.observer = observer
        self.interval = interval
        self.pressed: set[str] = set()
        self.presses = 0
        self._task: asyncio.Task[None] | None = None
        self._next_button = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bench-operators")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        operators = self.fakes.operators
        while True:
            self.observer.scan()
            for message_id, data in self.observer.buttons[self._next_button :]:
                if data in self.pressed:
                    continue
                operator = operators[self.presses % len(operators)]
                try:
                    self.fakes.telegram.press(operator, self.fakes.group_chat_id, message_id, data)
                except ValueError:  # the button is already gone (the card was edited)
                    continue
                self.pressed.add(data)
                self.presses += 1
            self._next_button = len(self.observer.buttons)
            await asyncio.sleep(self.interval)


@contextlib.asynccontextmanager
async def scratch_folder(keep: bool = False):
    """A temporary folder for a run's config, database and log."""
    folder = Path(tempfile.mkdtemp(prefix="talker-bench-"))
    try:
        yield folder
    finally:
        if not keep:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    import platform

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }
