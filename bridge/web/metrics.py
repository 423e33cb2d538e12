"""`GET /metrics`: Prometheus text, and the service-level metrics every part may update."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, generate_latest

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
    """Serve every metric of this process in Prometheus text format."""
    body = generate_latest(REGISTRY)
    content_type, _, charset = CONTENT_TYPE_LATEST.partition("; charset=")
    return web.Response(body=body, content_type=content_type, charset=charset or "utf-8")


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
