"""What a stranger reads on /healthz and /metrics (issue 14): only `{"status": ...}`, never
a metric, a channel's error text, dead letters or the version.

The abuse row runs against the whole service (`demo`) twice: with `http.metrics_token` set, and
with `http.internal` (the main listener then has no /metrics and no details, even for a
request from this machine). The rule for an install with neither ("this machine only": the TCP
peer is loopback and no proxy is in between) is checked here on requests with a chosen peer,
and over real HTTP from a second address of this machine in tests/app/test_service.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import make_mocked_request

from app.demo import DemoRunner
from bridge.web.metrics import MonitoringAccess, Verdict
from sandbox.runner import free_port
from tests.security.abuse import Ledger

TOKEN = "the-right-metrics-token-0123"

#: What strangers try: (path, headers).
TRIES: list[tuple[str, dict[str, str]]] = [
    (path, headers)
    for path in ("/healthz", "/metrics", "/metrics?x=1", "/healthz?details=1")
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer wrong-token-of-good-length"},
        {"Authorization": f"Bearer {TOKEN.upper()}"},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"X-Forwarded-For": "127.0.0.1"},
        {"X-Real-IP": "::1", "Forwarded": "for=127.0.0.1"},
    )
]


@pytest.fixture(params=["metrics_token", "internal"])
def demo_changes(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "metrics_token":
        return {"http": {"metrics_token": TOKEN}}
    return {"http": {"internal": {"host": "127.0.0.1", "port": free_port()}}}


def shows_something(path: str, status: int, body: str) -> bool:
    """Whether an answer shows more than the status: a metric, a detail, the version."""
    if "talker_bridge" in body or "channels" in body or "version" in body:
        return True
    if path.startswith("/metrics"):
        return status == 200
    try:
        shown = json.loads(body)
    except ValueError:
        return True
    return set(shown) != {"status"}


async def test_stranger_reads_healthz_details_and_metrics(
    demo: DemoRunner, ledger: Ledger, demo_changes: dict[str, Any]
) -> None:
    way_in = "internal listener" if "internal" in demo_changes["http"] else "metrics_token"
    row = ledger.attack(f"stranger reads /healthz details and /metrics ({way_in} set)")
    answers = []
    for path in ("/metrics", "/healthz"):  # a token that is not UTF-8 at all
        status, body = await raw_get(demo, path, b"Authorization: Bearer \xff\xfe\x80")
        row.count(status, succeeded=shows_something(path, status, body))
        answers.append((path, status, body))
    async with aiohttp.ClientSession() as http:
        for path, headers in TRIES:
            async with http.get(demo.base_url + path, headers=headers) as response:
                body = await response.text()
                row.count(response.status, succeeded=shows_something(path, response.status, body))
                answers.append((path, response.status, body))
        # Only the monitoring's own way in opens them.
        assert demo.service is not None
        if demo.service.internal_port is not None:
            url = f"http://127.0.0.1:{demo.service.internal_port}"
            opened = {}
        else:
            url = demo.base_url
            opened = {"Authorization": f"Bearer {TOKEN}"}
        async with http.get(f"{url}/metrics", headers=opened) as response:
            assert response.status == 200 and "talker_bridge_up 1.0" in await response.text()
        async with http.get(f"{url}/healthz", headers=opened) as response:
            assert "channels" in await response.json()
    assert row.succeeded == 0, [a for a in answers if shows_something(*a)]
    assert row.server_errors == 0
    metrics_statuses = {status for path, status, _ in answers if path.startswith("/metrics")}
    assert metrics_statuses == ({404} if way_in == "internal listener" else {401})


async def raw_get(demo: DemoRunner, path: str, header: bytes) -> tuple[int, str]:
    """GET `path` with a header aiohttp's client would not send (bytes that are not UTF-8)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", demo.port)
    try:
        writer.write(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: bridge\r\n" + header + b"\r\n"
            b"Connection: close\r\n\r\n"
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


class Peer:
    """A transport whose peer is `address` (what request.remote reports)."""

    def __init__(self, address: str) -> None:
        self.address = address

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (self.address, 40000) if name == "peername" else default


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "verdict"),
    [
        ("127.0.0.1", {}, (), Verdict.ALLOWED),
        ("127.9.8.7", {}, (), Verdict.ALLOWED),
        ("::1", {}, (), Verdict.ALLOWED),
        ("::ffff:127.0.0.1", {}, (), Verdict.ALLOWED),
        ("203.0.113.5", {}, (), Verdict.NOT_THIS_MACHINE),
        ("192.0.2.2", {}, (), Verdict.NOT_THIS_MACHINE),
        ("2001:db8::1", {}, (), Verdict.NOT_THIS_MACHINE),
        # A header never makes a stranger local...
        ("203.0.113.5", {"X-Forwarded-For": "127.0.0.1"}, (), Verdict.NOT_THIS_MACHINE),
        (
            "203.0.113.5",
            {"X-Forwarded-For": "127.0.0.1"},
            ("0.0.0.0/0",),
            Verdict.NOT_THIS_MACHINE,
        ),
        # ... but a proxy on this machine makes every stranger a loopback peer:
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}, (), Verdict.NOT_THIS_MACHINE),
        ("127.0.0.1", {"X-Real-IP": "203.0.113.5"}, (), Verdict.NOT_THIS_MACHINE),
        ("127.0.0.1", {"Forwarded": "for=203.0.113.5"}, (), Verdict.NOT_THIS_MACHINE),
        ("127.0.0.1", {}, ("127.0.0.1",), Verdict.NOT_THIS_MACHINE),
    ],
)
def test_only_this_machine_reads_metrics_when_nothing_is_configured(
    peer: str, headers: dict[str, str], trusted: tuple[str, ...], verdict: Verdict
) -> None:
    request = make_mocked_request("GET", "/metrics", headers=headers, transport=Peer(peer))
    assert MonitoringAccess.this_machine(trusted).check(request) is verdict
