"""`GET /metrics`: Prometheus text, the service-level metrics every part may update, and who
may read them (`MonitoringAccess`, shared with /healthz's details).

Metrics and /healthz's details name channels, errors and counts a stranger has no business
seeing. On one listener exactly one of these opens them:

- `MonitoringAccess.for_everyone()`: the internal listener (`http.internal`), for monitoring only;
- `MonitoringAccess.bearer(token)`: the main listener with `http.metrics_token`; a request
  without the right `Authorization: Bearer` gets 401 on /metrics;
- `MonitoringAccess.this_machine(trusted_proxies)`: the main listener with neither set; only
  a connection from a loopback address (the TCP peer, never a header) is let in, unless it
  comes through a proxy (a peer in `http.trusted_proxies`, or a request that carries a
  forwarding header), since behind a proxy on this machine every stranger is a loopback peer.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, generate_latest

from bridge.web.clients import ClientAddress, peer_address
from bridge.web.untrusted import bearer_token, same_secret

HTTP_REQUESTS = Counter(
    "talker_bridge_http_requests_total",
    "HTTP requests served, by route and status code.",
    ["route", "status"],
)
UP = Gauge("talker_bridge_up", "1 while the service is running.")
DATABASE_UP = Gauge("talker_bridge_database_up", "1 when the last database probe succeeded.")
CHANNEL_UP = Gauge(
    "talker_bridge_channel_up", "1 when the channel's component is running.", ["channel"]
)
DEAD_LETTERS = Gauge(
    "talker_bridge_dead_letters",
    "Updates that failed for good and wait for `talker-bridge dead-letters replay`, by source.",
    ["source"],
)
INTAKE_WAITING = Gauge(
    "talker_bridge_intake_waiting_seconds",
    "How long a polled update has waited for the database (0 when none waits), by source.",
    ["source"],
)
INTAKE_ALARM = Gauge(
    "talker_bridge_intake_alarm",
    "1 while a polled update has waited for the database longer than the alarm threshold.",
    ["source"],
)


async def metrics_handler(request: web.Request) -> web.Response:
    """Serve every metric of this process in Prometheus text format (to anyone: see
    `guarded_metrics_handler` for the route the service mounts)."""
    body = generate_latest(REGISTRY)
    content_type, _, charset = CONTENT_TYPE_LATEST.partition("; charset=")
    return web.Response(body=body, content_type=content_type, charset=charset or "utf-8")


class Verdict(enum.Enum):
    """What `MonitoringAccess.check` decided about one request."""

    ALLOWED = "allowed"
    NO_TOKEN = "no token"
    WRONG_TOKEN = "wrong token"
    NOT_THIS_MACHINE = "not this machine"
    NOT_HERE = "served on the internal listener only"


class _Rule(enum.Enum):
    EVERYONE = "everyone"
    BEARER = "bearer token"
    THIS_MACHINE = "this machine"
    NOBODY = "nobody"


#: Headers a reverse proxy adds: a loopback peer that sends one is a proxy, not a local tool.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
#: The realm of the 401's WWW-Authenticate challenge.
REALM = "talker-bridge metrics"


class MonitoringAccess:
    """Who may read /metrics and /healthz's details on one listener (see the module docstring).
    Made by one of the class methods; `check(request)` does no I/O and never raises."""

    def __init__(
        self, rule: _Rule, *, token: str = "", trusted_proxies: Iterable[str] = ()
    ) -> None:
        self.rule = rule
        self._token = token
        self._proxies = ClientAddress(trusted_proxies)

    @classmethod
    def for_everyone(cls) -> MonitoringAccess:
        """The internal listener: only the admin's monitoring can reach it."""
        return cls(_Rule.EVERYONE)

    @classmethod
    def bearer(cls, token: str) -> MonitoringAccess:
        """Requests with `Authorization: Bearer <token>`."""
        return cls(_Rule.BEARER, token=token)

    @classmethod
    def this_machine(cls, trusted_proxies: Iterable[str] = ()) -> MonitoringAccess:
        """Connections from a loopback address that did not come through a proxy."""
        return cls(_Rule.THIS_MACHINE, trusted_proxies=trusted_proxies)

    @classmethod
    def nobody(cls) -> MonitoringAccess:
        """The main listener when an internal listener serves monitoring."""
        return cls(_Rule.NOBODY)

    @property
    def serves_metrics(self) -> bool:
        """False when /metrics should not exist on this listener at all (404)."""
        return self.rule is not _Rule.NOBODY

    def check(self, request: web.BaseRequest) -> Verdict:
        if self.rule is _Rule.EVERYONE:
            return Verdict.ALLOWED
        if self.rule is _Rule.NOBODY:
            return Verdict.NOT_HERE
        if self.rule is _Rule.BEARER:
            given = (bearer_token(request.headers) or "").strip()
            if not given:
                return Verdict.NO_TOKEN
            if not same_secret(given, self._token):
                return Verdict.WRONG_TOKEN
            return Verdict.ALLOWED
        return Verdict.ALLOWED if self._from_this_machine(request) else Verdict.NOT_THIS_MACHINE

    def allows(self, request: web.BaseRequest) -> bool:
        return self.check(request) is Verdict.ALLOWED

    def _from_this_machine(self, request: web.BaseRequest) -> bool:
        peer = peer_address(request)  # the TCP peer, never a header; a Unix socket has none
        if peer is None or not peer.is_loopback or self._proxies.is_trusted(peer):
            return False
        return not any(name in request.headers for name in FORWARDING_HEADERS)


def refusal(verdict: Verdict) -> web.Response:
    """The answer to a request `check` did not allow on /metrics: 401 with a Bearer challenge
    for a missing or wrong token, 403 saying how to open it for a stranger."""
    if verdict is Verdict.NOT_HERE:
        return web.Response(status=404, text="404: Not Found")
    if verdict is Verdict.NOT_THIS_MACHINE:
        return web.Response(
            status=403,
            text="/metrics is served only to this machine. To read it from elsewhere, set "
            "http.metrics_token (and send Authorization: Bearer <token>) or http.internal "
            "(a listener for monitoring only) in the config.\n",
        )
    challenge = f'Bearer realm="{REALM}"'
    if verdict is Verdict.WRONG_TOKEN:
        challenge += ', error="invalid_token"'
    return web.Response(
        status=401,
        headers={"WWW-Authenticate": challenge},
        text="/metrics needs Authorization: Bearer <http.metrics_token>.\n",
    )


def guarded_metrics_handler(
    access: MonitoringAccess, refresh: Callable[[], Awaitable[object]] | None = None
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The /metrics route: `refresh()` (gauges read on demand), then the metrics, for a
    request `access` allows; `refusal` for any other."""

    async def handle(request: web.Request) -> web.Response:
        verdict = access.check(request)
        if verdict is not Verdict.ALLOWED:
            return refusal(verdict)
        if refresh is not None:
            await refresh()
        return await metrics_handler(request)

    return handle


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count every request by its route pattern (never the raw path: ids would explode labels)."""
    route = request.match_info.route
    pattern = getattr(route.resource, "canonical", None) or "unmatched"
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        HTTP_REQUESTS.labels(pattern, str(exc.status)).inc()
        raise
    HTTP_REQUESTS.labels(pattern, str(response.status)).inc()
    return response


# The retention jobs (bridge/retention.py); only the leader's jobs run, so its figures move.
RETENTION_DELETED = Counter(
    "talker_bridge_retention_deleted_total",
    "Rows or files the retention jobs deleted, by job.",
    ["job"],
)
RETENTION_LAST_RUN = Gauge(
    "talker_bridge_retention_last_run_timestamp_seconds",
    "When each retention job last finished a run (Unix time).",
    ["job"],
)
RETENTION_FAILURES = Counter(
    "talker_bridge_retention_failures_total",
    "Retention job runs that failed (they run again on schedule), by job.",
    ["job"],
)
