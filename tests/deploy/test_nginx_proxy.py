"""deploy/nginx/talker-bridge.conf in front of a running bridge: https reaches it, the widget's
socket is upgraded through the proxy, and /metrics stays closed to the internet."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from sandbox.runner import free_port
from tests.deploy.bridge import missing_tool, running_bridge, seed
from tests.deploy.test_units import nginx_config_for_test

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@asynccontextmanager
async def nginx_in_front(tmp_path: Path, bridge_port: int) -> AsyncIterator[int]:
    """The deploy site with both upstream processes pointed at `bridge_port` and its listeners
    on free ports: the https port while nginx runs (stopped by its own pid afterwards)."""
    if NGINX is None:
        missing_tool("nginx", "nginx-light")
    main = nginx_config_for_test(tmp_path)
    https, http = free_port(), free_port()
    site = tmp_path / "site.conf"
    text = site.read_text(encoding="utf-8")
    for old, new in (
        ("127.0.0.1:8081", f"127.0.0.1:{bridge_port}"),
        ("127.0.0.1:8082", f"127.0.0.1:{bridge_port}"),
        ("listen 443 ", f"listen 127.0.0.1:{https} "),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
    ):
        text = text.replace(old, new)
    text = "\n".join(line for line in text.splitlines() if "listen [::]" not in line)
    site.write_text(text, encoding="utf-8")
    # As root the workers would run as nobody, who cannot read the test's private folder.
    main.write_text("user root;\ndaemon off;\n" + main.read_text(encoding="utf-8"))
    proc = await asyncio.create_subprocess_exec(
        NGINX, "-p", str(tmp_path), "-c", str(main), stderr=subprocess.PIPE
    )
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", https)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            break
        yield https
    finally:
        proc.terminate()
        await proc.wait()


async def test_the_site_proxies_https_and_upgrades_the_widget_socket(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'bridge.db'}"
    await seed(database)
    async with running_bridge(tmp_path, database, widget=True) as url:
        bridge_port = int(url.rpartition(":")[2])
        async with nginx_in_front(tmp_path, bridge_port) as https:
            base = f"https://127.0.0.1:{https}"
            insecure = ssl.create_default_context()
            insecure.check_hostname = False
            insecure.verify_mode = ssl.CERT_NONE
            headers = {"Host": "support.example.com"}
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=insecure)
            ) as client:
                async with client.get(f"{base}/healthz", headers=headers) as response:
                    health = response.status, await response.json()
                async with client.get(f"{base}/metrics", headers=headers) as response:
                    metrics_status = response.status
                async with client.get(f"{base}/widget/shop.js", headers=headers) as response:
                    script_status = response.status
                socket = await client.ws_connect(
                    f"{base}/widget/shop/ws",
                    headers={**headers, "Origin": "https://shop.example.com"},
                )
                upgraded = not socket.closed
                await socket.close()
    assert health == (200, {"status": "ok"})
    assert metrics_status == 404
    assert script_status == 200
    assert upgraded
