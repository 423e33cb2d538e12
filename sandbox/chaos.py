"""Random fault injection for every fake: a share of 5xx answers, timeouts and 429s.

Off unless configured, by a fake's `chaos=ChaosSettings(...)` constructor option or over HTTP:
`POST /_control/chaos {error_rate, timeout_rate, throttle_rate, seed, hold_seconds, retry_after,
endpoints?}` turns it on (or changes it), `GET /_control/chaos` answers what was injected,
`DELETE /_control/chaos` turns it off. Each API call draws once from a `random.Random(seed)`,
so a seed gives the same sequence of decisions; the fake then answers as its platform does:

- error: an HTTP 5xx (500, 502 or 503) in the platform's error shape, nothing done;
- timeout: the request is held `hold_seconds` (by default 0; make it longer than the client's
  timeout to see the client give up) and the connection is then dropped without an answer.
  Half of the timeouts (drawn) happen *after* the call took effect — the message is sent, the
  client never hears so — which is where a retry can duplicate;
- throttle: the platform's rate-limit answer (Telegram: 429 with `parameters.retry_after`;
  VK: `error_code` 6 in an HTTP 200; Viber: `status` 12 in an HTTP 200; Facebook: HTTP 400
  with Graph error code 613). Each fake builds its own shape from the drawn `Injection`.

Every injection is counted (`Chaos.summary()`), per kind and per endpoint, so a test can bound
the duplicates it may see by the timeouts that hit a call after its effect.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

ERROR = "error"
TIMEOUT = "timeout"
THROTTLE = "throttle"
KINDS = (ERROR, TIMEOUT, THROTTLE)
SERVER_ERRORS = (500, 502, 503)


@dataclass(frozen=True, slots=True)
class ChaosSettings:
    """How often each fault is injected (shares of all calls) and how it looks."""

    error_rate: float = 0.10
    timeout_rate: float = 0.05
    throttle_rate: float = 0.02
    seed: int = 13
    #: Seconds a timed-out request is held before its connection is dropped.
    hold_seconds: float = 0.0
    #: Seconds a 429 asks the client to wait (where the platform says so).
    retry_after: int = 1
    #: Only these endpoints (the fake's method names); None: every API endpoint.
    endpoints: frozenset[str] | None = None

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.timeout_rate, self.throttle_rate)
        if any(rate < 0 for rate in rates) or sum(rates) > 1:
            raise ValueError("fault rates are shares: each at least 0, together at most 1")
        if self.hold_seconds < 0 or self.retry_after < 0:
            raise ValueError("hold_seconds and retry_after are at least 0")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChaosSettings:
        endpoints = data.get("endpoints")
        return cls(
            error_rate=float(data.get("error_rate", 0.10)),
            timeout_rate=float(data.get("timeout_rate", 0.05)),
            throttle_rate=float(data.get("throttle_rate", 0.02)),
            seed=int(data.get("seed", 13)),
            hold_seconds=float(data.get("hold_seconds", 0.0)),
            retry_after=int(data.get("retry_after", 1)),
            endpoints=frozenset(str(e) for e in endpoints) if endpoints is not None else None,
        )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["endpoints"] = sorted(self.endpoints) if self.endpoints is not None else None
        return data


@dataclass(frozen=True, slots=True)
class Injection:
    """One drawn fault: its kind, the endpoint it hit, and its details."""

    kind: str
    endpoint: str
    status: int = 500  # for errors: the 5xx to answer
    after_effect: bool = False  # for timeouts: drop the connection after the call took effect
    retry_after: int = 1  # for throttles
    hold_seconds: float = 0.0  # for timeouts


@dataclass
class Chaos:
    """The random fault plan of one fake, and the count of what it injected."""

    settings: ChaosSettings | None = None
    calls: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    by_endpoint: dict[str, Counter[str]] = field(default_factory=dict)
    timeouts_after_effect: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.configure(self.settings)

    @property
    def enabled(self) -> bool:
        return self.settings is not None

    def configure(self, settings: ChaosSettings | None) -> None:
        """Turn injection on with `settings` (restarting its random sequence), or off (None)."""
        self.settings = settings
        self._rng = random.Random(settings.seed if settings else 0)

    def reset_counts(self) -> None:
        self.calls = 0
        self.injected.clear()
        self.by_endpoint.clear()
        self.timeouts_after_effect.clear()

    def draw(self, endpoint: str) -> Injection | None:
        """The fault for this call, or None; counts what it injects."""
        settings = self.settings
        if settings is None:
            return None
        if settings.endpoints is not None and endpoint not in settings.endpoints:
            return None
        self.calls += 1
        roll = self._rng.random()
        status = self._rng.choice(SERVER_ERRORS)
        after_effect = self._rng.random() < 0.5
        if roll < settings.error_rate:
            injection = Injection(ERROR, endpoint, status=status)
        elif roll < settings.error_rate + settings.timeout_rate:
            injection = Injection(
                TIMEOUT, endpoint, after_effect=after_effect, hold_seconds=settings.hold_seconds
            )
            if after_effect:
                self.timeouts_after_effect[endpoint] += 1
        elif roll < settings.error_rate + settings.timeout_rate + settings.throttle_rate:
            injection = Injection(THROTTLE, endpoint, retry_after=settings.retry_after)
        else:
            return None
        self.injected[injection.kind] += 1
        self.by_endpoint.setdefault(endpoint, Counter())[injection.kind] += 1
        return injection

    def total(self) -> int:
        return sum(self.injected.values())

    def summary(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "settings": self.settings.as_json() if self.settings else None,
            "calls": self.calls,
            "injected": {kind: self.injected.get(kind, 0) for kind in KINDS},
            "timeouts_after_effect": dict(self.timeouts_after_effect),
            "by_endpoint": {name: dict(counts) for name, counts in self.by_endpoint.items()},
        }


async def drop_connection(request: web.Request, injection: Injection) -> web.Response:
    """Hold the request `injection.hold_seconds`, then reset its connection: the client gets
    no answer (a timeout or a disconnect). Raises instead of returning anything useful."""
    if injection.hold_seconds:
        await asyncio.sleep(injection.hold_seconds)
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:  # an RST, as when a proxy in between gives up
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()
    # The connection is gone: aiohttp writes this nowhere.
    raise web.HTTPServiceUnavailable(text="connection dropped by injected fault")


def plain_http_fault(injection: Injection) -> web.HTTPException:
    """A drawn error or throttle as a bare HTTP answer (a server or proxy without the
    platform's envelope): the 5xx, or 429 with a Retry-After header."""
    if injection.kind == THROTTLE:
        return web.HTTPTooManyRequests(
            text="Too Many Requests", headers={"Retry-After": str(injection.retry_after)}
        )
    reasons = {500: web.HTTPInternalServerError, 502: web.HTTPBadGateway}
    return reasons.get(injection.status, web.HTTPServiceUnavailable)(text="injected fault")


def add_chaos_routes(app: web.Application, chaos: Chaos) -> None:
    """`/_control/chaos`: POST settings to turn it on, GET the counts, DELETE to turn it off."""

    async def get_chaos(request: web.Request) -> web.Response:
        return web.json_response(chaos.summary())

    async def post_chaos(request: web.Request) -> web.Response:
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise ValueError("the body must be a JSON object")
            chaos.configure(ChaosSettings.from_json(data))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        if data.get("reset_counts", True):
            chaos.reset_counts()
        return web.json_response(chaos.summary())

    async def delete_chaos(request: web.Request) -> web.Response:
        chaos.configure(None)
        return web.json_response(chaos.summary())

    app.router.add_get("/_control/chaos", get_chaos)
    app.router.add_post("/_control/chaos", post_chaos)
    app.router.add_delete("/_control/chaos", delete_chaos)
