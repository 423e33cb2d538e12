"""Start an aiohttp application on a free local port, for tests, benchmarks and the demo."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web


@dataclass(frozen=True, slots=True)
class RunningApp:
    """An application being served; `base_url` has no trailing slash."""

    runner: web.AppRunner
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def start_app(app: web.Application, host: str = "127.0.0.1", port: int = 0) -> RunningApp:
    """Serve `app` on host:port (0 = any free port) and return where it listens."""
    # In tests and the demo nothing waits on a slow client at shutdown.
    runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    addresses = runner.addresses  # the bound (host, port, ...) of each listening socket
    bound_port = int(addresses[0][1]) if addresses else port
    return RunningApp(runner=runner, host=host, port=bound_port)


@asynccontextmanager
async def serving(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningApp]:
    """`async with serving(app) as running:` — serve for the duration of the block."""
    running = await start_app(app, host, port)
    try:
        yield running
    finally:
        await running.runner.cleanup()
