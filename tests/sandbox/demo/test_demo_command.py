"""`talker-bridge demo --port P` as a user runs it: serves /demo and /healthz, stops on SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request

from tests.sandbox.demo.conftest import demo_process


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.read().decode()


def test_demo_serves_the_page_and_healthz_then_stops_on_sigterm() -> None:
    with demo_process() as demo:
        status, html = _get(demo.url)
        assert status == 200 and "Talker Bridge" in html
        status, body = _get(f"{demo.base_url}/healthz")
        health = json.loads(body)
        assert status in (200, 503)  # 503 when a channel's adapter is missing from the build
        assert health["database"] == {"ok": True, "backend": "sqlite"}
        assert health["channels"]["telegram"]["state"] == "running"
        demo.proc.send_signal(signal.SIGTERM)
        assert demo.proc.wait(timeout=15) == 0
        assert demo.proc.stdout is not None
        rest = demo.proc.stdout.read()
    assert "Traceback" not in "".join(demo.output) + rest


def test_demo_refuses_a_port_out_of_range() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "demo", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--port must be 0-65535" in result.stderr
