"""`GET /healthz`: is the database reachable, and what state is each enabled channel in.

Everyone gets the status, `{"status": "ok" | "degraded" | "down"}`, with 200 (database up, no
channel failed) or 503: enough for a load balancer. The details (version, database backend,
each channel's state and error text, dead letters, warnings) only go to a request the
listener's `MonitoringAccess` allows (bridge/web/metrics.py): error texts name tokens' fates,
hosts and counts a stranger should not read.

Dead letters waiting for a replay are listed by source with a warning; they do not change the
status code (the service works; an operator should look at them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bridge import __version__
from bridge.components import ComponentState
from bridge.web.metrics import MonitoringAccess

DatabaseProbe = Callable[[], Awaitable[bool]]
ChannelStates = Callable[[], Mapping[str, ComponentState]]
#: Open dead letters by source (None: they could not be counted now).
DeadLetterCounts = Callable[[], Awaitable[Mapping[str, int] | None]]


async def _no_dead_letters() -> Mapping[str, int] | None:
    return {}


def health_handler(
    *,
    database_backend: str,
    probe_database: DatabaseProbe,
    channel_states: ChannelStates,
    dead_letters: DeadLetterCounts = _no_dead_letters,
    access: MonitoringAccess,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The /healthz handler: 200 when the database answers and no channel failed, else 503;
    the details only for a request `access` allows."""

    async def handle(request: web.Request) -> web.Response:
        database_ok = await probe_database()
        states = channel_states()
        failed = [name for name, state in states.items() if state.state == "failed"]
        if not database_ok:
            status = "down"
        elif failed or any(not s.healthy for s in states.values()):
            status = "degraded"
        else:
            status = "ok"
        code = 200 if database_ok and not failed else 503
        if not access.allows(request):
            return web.json_response({"status": status}, status=code)
        channels = {
            name: {"state": state.state, **({"detail": state.detail} if state.detail else {})}
            for name, state in states.items()
        }
        body: dict[str, object] = {
            "status": status,
            "version": __version__,
            "database": {"ok": database_ok, "backend": database_backend},
            "channels": channels,
        }
        letters = await dead_letters() if database_ok else None
        if letters is not None:
            body["dead_letters"] = dict(letters)
            waiting = sum(letters.values())
            if waiting:
                body["warnings"] = [
                    f"{waiting} update(s) failed for good and wait in dead letters: "
                    "see `talker-bridge dead-letters`"
                ]
        return web.json_response(body, status=code)

    return handle
