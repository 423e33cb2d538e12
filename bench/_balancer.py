"""A small round-robin HTTP balancer for the scale-out benchmark (bench/_ingest.py).

`Balancer(upstreams)` runs in a child process of its own (so it does not share the load
client's event loop) and forwards every request, in turn, to the next upstream base URL:
method, path, query, body and the end-to-end headers; the answer comes back the same way.
`Balancer([])` starts a trivial upstream in a second child process and forwards to it: the
floor, what the load client and the balancer push with no bridge behind them;
`Balancer.answering()` is that upstream alone (the load client's own floor).

Where nginx is installed (Debian's nginx-light), `Balancer` is nginx itself, round robin over
keep-alive upstream connections, as a deployment runs it (deploy/nginx): written in C, it
takes a small share of the two cores the benchmark shares with the bridges; `kind` says
which one ran. `BENCH_BALANCER=python` forces the Python one.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

#: Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1), and Host.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def _balance(port: int, upstreams: list[str], ready: Any) -> None:
    asyncio.run(_serve_balancer(port, upstreams, ready))


async def _serve_balancer(port: int, upstreams: list[str], ready: Any) -> None:
    import aiohttp
    from aiohttp import web

    turns = itertools.cycle(upstreams)
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, limit_per_host=256),
        auto_decompress=False,
    )

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        target = next(turns) + request.path_qs
        try:
            async with http.request(
                request.method, target, data=body, headers=headers, allow_redirects=False
            ) as answer:
                payload = await answer.read()
                back = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                return web.Response(status=answer.status, body=payload, headers=back)
        except aiohttp.ClientError as exc:
            return web.Response(status=502, text=f"upstream: {exc}")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", forward)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ready.set()
    await asyncio.Event().wait()


def _answer(port: int, ready: Any) -> None:
    asyncio.run(_serve_answer(port, ready))


async def _serve_answer(port: int, ready: Any) -> None:
    from aiohttp import web

    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ready.set()
    await asyncio.Event().wait()


#: One worker (the bridges and the load share two cores), no logs, HTTP/1.1 keep-alive to
#: the upstreams: round robin, as deploy/nginx/talker-bridge.conf balances processes.
_NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    client_max_body_size 64m;
    client_body_buffer_size 1m;
    upstream bridges {{ {servers} keepalive 256; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://bridges;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_buffering off;
        }}
    }}
}}
"""


def _nginx() -> str | None:
    """nginx's path (Debian installs it in /usr/sbin, not always on PATH), or None."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


class Balancer:
    """`async with Balancer(["http://127.0.0.1:8081", ...]) as lb:` then send to `lb.url`."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = list(upstreams)
        self.url = ""
        self.kind = "python"
        self._nginx_process: subprocess.Popen[bytes] | None = None
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._children: list[Any] = []

    async def _spawn(self, target: Any, *args: Any) -> int:
        from sandbox.runner import free_port

        context = multiprocessing.get_context("spawn")
        port = free_port()
        ready = context.Event()
        child = context.Process(target=target, args=(port, *args, ready), daemon=True)
        child.start()
        self._children.append(child)
        if not await asyncio.to_thread(ready.wait, 60):
            raise RuntimeError(f"{target.__name__} did not start")
        return port

    async def __aenter__(self) -> Balancer:
        upstreams = self.upstreams
        if not upstreams:  # the floor: a trivial upstream that answers 200 at once
            upstreams = [f"http://127.0.0.1:{await self._spawn(_answer)}"]
        nginx = _nginx()
        if nginx and os.environ.get("BENCH_BALANCER", "nginx") == "nginx":
            self.kind = "nginx"
            port = await self._nginx(nginx, upstreams)
        else:
            self.kind = "python"
            port = await self._spawn(_balance, upstreams)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def _nginx(self, nginx: str, upstreams: list[str]) -> int:
        from sandbox.runner import free_port

        port = free_port()
        self._folder = tempfile.TemporaryDirectory(prefix="bench-nginx-")
        folder = Path(self._folder.name)
        servers = "".join(f"server {u.removeprefix('http://')};" for u in upstreams)
        (folder / "nginx.conf").write_text(
            _NGINX_CONF.format(folder=folder, port=port, servers=servers)
        )
        self._nginx_process = subprocess.Popen(  # noqa: ASYNC220 - starts at once, no wait
            [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(200):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                if self._nginx_process.poll() is not None:
                    raise RuntimeError("nginx did not start") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return port
        raise RuntimeError("nginx did not start listening")

    @classmethod
    def answering(cls) -> Balancer:
        """No balancer: only the trivial upstream (`url` is its own), the load client's floor."""
        return _Answering([])

    async def __aexit__(self, *exc: object) -> None:
        process = self._nginx_process
        if process is not None:
            process.terminate()
            await asyncio.to_thread(process.wait, 10)
            self._nginx_process = None
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None
        for child in self._children:
            child.kill()
            await asyncio.to_thread(child.join, 10)
        self._children.clear()


class _Answering(Balancer):
    async def __aenter__(self) -> Balancer:
        self.url = f"http://127.0.0.1:{await self._spawn(_answer)}"
        return self
