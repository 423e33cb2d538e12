"""The bridge's side of the fault scenarios: `talker-bridge run` processes (the checkout's
code), a readiness-checking round-robin balancer in front of several, and fresh databases."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

from bench._harness import BridgeProcess
from sandbox.runner import RunningApp, free_port, start_app
from tests.faults.platforms import TIME_SCALE, Platforms
from tests.support.pg_cluster import PgCluster

# --- the bridge's side -------------------------------------------------------------------------


#: The balancer's health checks: every HEALTH_INTERVAL s, a /healthz within HEALTH_TIMEOUT s.
HEALTH_INTERVAL = 0.5
HEALTH_TIMEOUT = 2.0
HOP_HEADERS = ("content-length", "transfer-encoding", "content-encoding")


class RoundRobin:
    """A load balancer in front of several bridge processes, as a Kubernetes Service with a
    readiness probe does it: each request goes to the next backend whose last /healthz answered
    200 within HEALTH_TIMEOUT (all of them when none did); a backend that refuses the
    connection is skipped; any other failure answers 502, and the platform retries."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.healthy = set(backends)
        self._next = itertools.count()
        self._running: RunningApp | None = None
        self._http: aiohttp.ClientSession | None = None
        self._checks: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        assert self._running is not None
        return self._running.base_url

    async def start(self) -> RoundRobin:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._running = await start_app(app)
        self._checks = asyncio.get_running_loop().create_task(self._check_health())
        return self

    async def stop(self) -> None:
        if self._checks is not None:
            self._checks.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checks
        if self._running is not None:
            await self._running.runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _check_health(self) -> None:
        timeout = aiohttp.ClientTimeout(total=HEALTH_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as http:

            async def alive(backend: str) -> bool:
                try:
                    async with http.get(backend + "/healthz") as response:
                        await response.read()
                        return response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    return False

            while True:
                answers = await asyncio.gather(*(alive(b) for b in self.backends))
                self.healthy = {b for b, ok in zip(self.backends, answers, strict=True) if ok}
                await asyncio.sleep(HEALTH_INTERVAL)

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self._http is not None
        body = await request.read()
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("host", "content-length", "transfer-encoding")
        }
        candidates = [b for b in self.backends if b in self.healthy] or self.backends
        for _ in range(len(candidates)):
            backend = candidates[next(self._next) % len(candidates)]
            try:
                async with self._http.request(
                    request.method, backend + request.path_qs, data=body, headers=headers
                ) as answer:
                    payload = await answer.read()
                    kept = {
                        k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS
                    }
                    return web.Response(status=answer.status, body=payload, headers=kept)
            except aiohttp.ClientConnectorError:
                continue  # nobody listens there: try the next one
            except (aiohttp.ClientError, TimeoutError):
                return web.Response(status=502, text="bad gateway")
        return web.Response(status=502, text="no backend")


@dataclass
class Bridges:
    """One or more `talker-bridge run` processes and the URL platforms call."""

    processes: list[BridgeProcess]
    public_url: str
    balancer: RoundRobin | None = None

    async def stop(self) -> None:
        for process in self.processes:
            await process.stop(grace=5)
        if self.balancer is not None:
            await self.balancer.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- process {n} ---\n{p.log_tail(400)}" for n, p in enumerate(self.processes)
        )


async def start_bridges(
    platforms: Platforms,
    folder: Path,
    *,
    mode: str,
    databases: list[str],
    together: bool = False,
) -> Bridges:
    """Start one process per database URL (all URLs reach one database, or there is one);
    with several, platforms and widget visitors reach them through a round-robin balancer."""
    ports = [free_port() for _ in databases]
    balancer = None
    if len(databases) > 1:
        balancer = await RoundRobin([f"http://127.0.0.1:{p}" for p in ports]).start()
        public_url = balancer.url
    else:
        public_url = f"http://127.0.0.1:{ports[0]}"
    processes = []
    for n, (database, port) in enumerate(zip(databases, ports, strict=True)):
        own = folder / f"process{n}"
        own.mkdir(parents=True, exist_ok=True)
        config = platforms.config(mode=mode, database=database, port=port, public_url=public_url)
        processes.append(BridgeProcess(config, TIME_SCALE, own, log_level="warning"))
    bridges = Bridges(processes, public_url, balancer)
    if together:
        results = await asyncio.gather(
            *(p.start(wait=60) for p in processes), return_exceptions=True
        )
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            await bridges.stop()
            raise RuntimeError("\n".join(_why(e) for e in errors))
    else:
        for process in processes:
            await process.start(wait=60)
    await platforms.connect_webhooks(public_url, mode)
    return bridges


def _why(error: BaseException) -> str:
    """The first line of a start failure and the last error line of its log."""
    lines = str(error).splitlines()
    errors = [line for line in lines if "Error:" in line or "error:" in line]
    return " / ".join(dict.fromkeys([lines[0] if lines else repr(error), *errors[-1:]]))


# --- databases ----------------------------------------------------------------------------------


async def fresh_database(cluster: PgCluster) -> str:
    """A new empty database in `cluster`; its URL."""
    import asyncpg

    name = f"faults_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(cluster.url, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return cluster.url_of(name)


async def database_for(backend: str, folder: Path, cluster: PgCluster | None) -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bridge.db'}"
    assert cluster is not None, "PostgreSQL scenarios need a cluster of their own"
    return await fresh_database(cluster)
