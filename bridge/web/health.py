"""`GET /healthz`: is the database reachable, and what state is each enabled channel in.

Dead letters waiting for a replay are listed by source with a warning; they do not change the
status code (the service works; an operator should look at them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from bridge import __version__
from bridge.components import ComponentState

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
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The /healthz handler: 200 when the database answers and no channel failed, else 503."""

    async def handle(request: web.Request) -> web.Response:
        database_ok = await probe_database()
        channels = {
            name: {"state": state.state, **({"detail": state.detail} if state.detail else {})}
            for name, state in channel_states().items()
        }
        failed = [name for name, state in channel_states().items() if state.state == "failed"]
        if not database_ok:
            status = "down"
        elif failed or any(not s.healthy for s in channel_states().values()):
            status = "degraded"
        else:
            status = "ok"
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
        return web.json_response(body, status=200 if database_ok and not failed else 503)

    return handle
