"""Pieces shared by the fake VK, Viber and Facebook servers.

One clock, one call log, one fault plan, one sliding-window rate limiter and one webhook
deliverer serve all three fakes, so each fake only knows its platform's rules and shapes.
`time_scale` shrinks every published period (1.0 = real time, 0.01 = a hundred times faster),
which keeps tests fast without changing what the limits do.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web


class Clock:
    """Wall-clock time that tests can move forward (`advance`) without waiting."""

    def __init__(self, start: float | None = None) -> None:
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        """Seconds since the epoch, as the fake platform sees it."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Jump forward by `seconds` (used to cross windows such as Facebook's 24 hours)."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._offset += seconds


@dataclass(frozen=True, slots=True)
class Call:
    """One API call the fake received: endpoint name, parameters and what it answered."""

    name: str
    params: Mapping[str, Any]
    at: float
    outcome: str


class CallLog:
    """Every API call in arrival order; `calls("messages.send")` filters by name."""

    def __init__(self) -> None:
        self._calls: list[Call] = []

    def record(self, name: str, params: Mapping[str, Any], at: float, outcome: str) -> None:
        self._calls.append(Call(name=name, params=dict(params), at=at, outcome=outcome))

    def calls(self, name: str | None = None) -> list[Call]:
        return [c for c in self._calls if name is None or c.name == name]

    def as_json(self, name: str | None = None) -> list[dict[str, Any]]:
        return [
            {"name": c.name, "params": _jsonable(c.params), "at": c.at, "outcome": c.outcome}
            for c in self.calls(name)
        ]

    def clear(self) -> None:
        self._calls.clear()


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        try:
            json.dumps(value)
            out[key] = value
        except (TypeError, ValueError):
            out[key] = repr(value)
    return out


FAULT_KINDS = ("http500", "error", "hang")


@dataclass(slots=True)
class Fault:
    """What the next matching call does instead of its normal work.

    `http500`: answer HTTP 500; `error`: answer the platform's error envelope built from
    `error` (e.g. {"code": 9} for VK, {"status": 12} for Viber); `hang`: wait `seconds`
    (scaled by the fake's time_scale) before answering normally — long enough for a client
    timeout to fire.
    """

    kind: str
    remaining: int
    endpoint: str | None = None
    error: dict[str, Any] = field(default_factory=dict)
    seconds: float = 60.0


class FaultPlan:
    """Faults queued for the next N calls (optionally only calls to one endpoint)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        count: int = 1,
        endpoint: str | None = None,
        error: Mapping[str, Any] | None = None,
        seconds: float = 60.0,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        fault = Fault(kind, count, endpoint, dict(error or {}), seconds)
        self._faults.append(fault)
        return fault

    def take(self, endpoint: str) -> Fault | None:
        """The fault that applies to this call, consuming one of its uses, or None."""
        for fault in self._faults:
            if fault.endpoint in (None, endpoint):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def pending(self) -> int:
        return sum(f.remaining for f in self._faults)


class RateLimiter:
    """Sliding window: at most `limit` events per `period` seconds for each key."""

    def __init__(self, limit: int, period: float, clock: Clock) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._events: dict[str, deque[float]] = {}

    def allow(self, key: str) -> bool:
        """Count one event for `key` if it fits in the window; False when over the limit."""
        now = self._clock.now()
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.period:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        return True

    def reset(self, key: str | None = None) -> None:
        if key is None:
            self._events.clear()
        else:
            self._events.pop(key, None)


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST of a webhook body to the bridge and what came back."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    status: int | None
    answer: str
    error: str | None = None


@dataclass(slots=True)
class Delivery:
    """A webhook body and all attempts made to deliver it."""

    body: bytes
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    succeeded: bool = False

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


Accepts = Callable[[int, str], bool]
HeadersFor = Callable[[bytes, int], Mapping[str, str]]


class Deliverer:
    """POSTs webhook bodies to the bridge, retrying until the platform's idea of success.

    `accepts(status, text)` says whether an answer counts as delivered (HTTP 200 for Viber and
    Facebook, the body `ok` for VK). `headers_for(body, attempt)` signs each attempt (attempt 0
    is the first try). Retries wait `retry_delay * 2**n` seconds scaled by `time_scale`.
    """

    def __init__(
        self,
        accepts: Accepts,
        headers_for: HeadersFor,
        max_attempts: int = 5,
        retry_delay: float = 1.0,
        time_scale: float = 1.0,
        timeout: float = 20.0,
    ) -> None:
        self._accepts = accepts
        self._headers_for = headers_for
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.time_scale = time_scale
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._tasks: set[asyncio.Task[Delivery]] = set()

    async def deliver(self, url: str, body: bytes) -> Delivery:
        """Deliver one body now (with retries) and return the record of attempts."""
        delivery = Delivery(body=body)
        self.deliveries.append(delivery)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for attempt in range(self.max_attempts):
                if attempt:
                    await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1) * self.time_scale)
                headers = {"Content-Type": "application/json", **self._headers_for(body, attempt)}
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        text = await response.text()
                        status: int | None = response.status
                        error = None
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status, text, error = None, "", f"{type(exc).__name__}: {exc}"
                delivery.attempts.append(
                    DeliveryAttempt(url, body, dict(headers), status, text, error)
                )
                if status is not None and self._accepts(status, text):
                    delivery.succeeded = True
                    break
        return delivery

    def deliver_later(self, url: str, body: bytes) -> asyncio.Task[Delivery]:
        """Deliver in the background, like a platform that does not wait for the bridge."""
        task = asyncio.get_running_loop().create_task(self.deliver(url, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self) -> None:
        """Wait until every background delivery has finished (succeeded or given up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "payload": d.payload,
                "succeeded": d.succeeded,
                "attempts": [
                    {"status": a.status, "answer": a.answer[:200], "error": a.error}
                    for a in d.attempts
                ],
            }
            for d in self.deliveries
        ]


def mount_base(request: web.Request, tail: str) -> str:
    """Absolute URL of the fake's root as the client reached it (host + mount prefix).

    `tail` is the part of the path below the fake's root, e.g. "/method/users.get"; whatever
    precedes it (such as "/vk" when mounted in the combined sandbox) is the prefix.
    """
    path = request.path
    prefix = path[: len(path) - len(tail)] if tail and path.endswith(tail) else ""
    return f"{request.scheme}://{request.host}{prefix}"


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; raises web.HTTPBadRequest with a reason otherwise."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(text=f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return data


def add_common_control_routes(
    app: web.Application, calls: CallLog, faults: FaultPlan, clock: Clock
) -> None:
    """`/_control/calls`, `/_control/faults` and `/_control/clock` — the same for every fake."""

    async def get_calls(request: web.Request) -> web.Response:
        return web.json_response(calls.as_json(request.query.get("name")))

    async def delete_calls(request: web.Request) -> web.Response:
        calls.clear()
        return web.json_response({"ok": True})

    async def post_fault(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        try:
            faults.add(
                kind=str(data.get("kind", "")),
                count=int(data.get("count", 1)),
                endpoint=data.get("endpoint"),
                error=data.get("error"),
                seconds=float(data.get("seconds", 60.0)),
            )
        except (TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        return web.json_response({"ok": True, "pending": faults.pending()})

    async def delete_faults(request: web.Request) -> web.Response:
        faults.clear()
        return web.json_response({"ok": True})

    async def post_clock(request: web.Request) -> web.Response:
        data = await read_json_object(request)
        try:
            clock.advance(float(data["advance"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise web.HTTPBadRequest(text=f"expected {{'advance': seconds >= 0}}: {exc}") from exc
        return web.json_response({"now": clock.now()})

    app.router.add_get("/_control/calls", get_calls)
    app.router.add_delete("/_control/calls", delete_calls)
    app.router.add_post("/_control/faults", post_fault)
    app.router.add_delete("/_control/faults", delete_faults)
    app.router.add_post("/_control/clock", post_clock)
