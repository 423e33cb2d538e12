"""Hostile inputs against the whole service (`demo`), over real HTTP: oversized bodies on every
webhook and widget route while a probe checks the webhooks keep answering, hostile upload
names and types, and spoofed X-Forwarded-For from an address that is no trusted proxy."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import aiohttp
import pytest

from app.demo import DemoRunner
from sandbox.demo.settings import WIDGET_ID
from tests.security.abuse import Ledger, WebhookProbe

pytestmark = pytest.mark.timeout(120)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BIDI = "\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u202a\u202b\u202c\u202d"


async def _token(http: aiohttp.ClientSession, demo: DemoRunner, **headers: str) -> str:
    async with http.post(
        f"{demo.base_url}/widget/{WIDGET_ID}/visitors",
        headers={"Origin": demo.base_url, **headers},
    ) as response:
        assert response.status == 200
        return str((await response.json())["token"])


async def test_oversized_bodies_get_413_and_the_webhooks_keep_answering(
    demo: DemoRunner, ledger: Ledger
) -> None:
    row = ledger.attack("oversized bodies on every webhook and widget route (flood)")
    base = demo.base_url
    big = b"{" + b" " * (6 * 1024 * 1024) + b"}"  # over every cap, the upload's 5 MB included
    async with aiohttp.ClientSession() as http:
        token = await _token(http, demo)
        auth = {"Origin": base, "Authorization": f"Bearer {token}"}
        routes = [
            ("/webhooks/viber", {}),
            ("/webhooks/facebook", {}),
            (f"/widget/{WIDGET_ID}/messages", {**auth, "Content-Type": "application/json"}),
            (f"/widget/{WIDGET_ID}/uploads", {**auth, "Content-Type": "image/png"}),
            (f"/widget/{WIDGET_ID}/visitors", {"Origin": base}),
        ]

        async def post(path: str, headers: dict[str, str], chunked: bool) -> int:
            async def chunks():
                for start in range(0, len(big), 256 * 1024):
                    yield big[start : start + 256 * 1024]

            data = chunks() if chunked else big
            try:
                async with http.post(base + path, data=data, headers=headers) as response:
                    return response.status
            except aiohttp.ClientError:
                return 413  # the server answered 413 and closed while the client still sent

        async with WebhookProbe(base, row):
            for _ in range(4):
                statuses = await asyncio.gather(
                    *(post(path, h, chunked) for path, h in routes for chunked in (False, True))
                )
                row.statuses(statuses, succeeded=sum(s < 400 for s in statuses))
                assert set(statuses) <= {413}, statuses
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok


async def test_hostile_upload_names_and_types(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("hostile upload names and types (widget)")
    base = demo.base_url
    cases = [
        # (name, declared type, bytes, refused?)
        ("invoice\u202egnp.exe", "image/png", PNG, False),
        ("a" + BIDI + ".png", "image/png", PNG, False),
        ("../../etc/passwd", "text/plain", b"root:x:0:0", False),
        ("page.html", "text/html", b"<script>alert(1)</script>", True),
        ("image.svg", "image/svg+xml", b"<svg onload=alert(1)>", True),
        ("fake.png", "image/png", b"<html><script>alert(1)</script>", True),
        ("fake.pdf", "application/pdf", b"MZ\x90\x00", True),
        ("script.js", "application/javascript", b"alert(1)", True),
        ("nul.txt", "text/plain", b"text\x00binary", True),
        ("x" * 5000 + ".png", "image/png", PNG, False),
    ]
    async with aiohttp.ClientSession() as http:
        for name, mime, data, should_refuse in cases:
            token = await _token(http, demo)  # one visitor per file: the upload rate is 4 at once
            auth = {"Origin": base, "Authorization": f"Bearer {token}"}
            headers = {**auth, "Content-Type": mime, "X-File-Name": quote(name)}
            async with http.post(
                f"{base}/widget/{WIDGET_ID}/uploads", data=data, headers=headers
            ) as response:
                status = response.status
                body = await response.json()
            if should_refuse:
                row.count(status, succeeded=status < 400)
                continue
            assert "file" in body, (name[:40], status, body)
            stored = body["file"]
            bad_name = (
                any(ch in stored["name"] for ch in BIDI)
                or "/" in stored["name"]
                or len(stored["name"]) > 120
                or not stored["name"].lower().endswith(".png" if "png" in mime else ".txt")
            )
            async with http.get(base + stored["url"]) as served:
                await served.read()
                headers_ok = (
                    served.headers.get("X-Content-Type-Options") == "nosniff"
                    and "sandbox" in served.headers.get("Content-Security-Policy", "")
                    and "html" not in served.headers.get("Content-Type", "")
                )
            row.count(status, succeeded=bad_name or not headers_ok)
    assert row.succeeded == 0 and row.server_errors == 0


async def test_spoofed_forwarded_for_from_an_untrusted_address(
    demo: DemoRunner, ledger: Ledger
) -> None:
    """The demo trusts no proxy: X-Forwarded-For is ignored, so changing it per request does
    not escape the per-address limit of new visitors (20 at once)."""
    row = ledger.attack("spoofed X-Forwarded-For from an untrusted address")
    async with aiohttp.ClientSession() as http:
        statuses = []
        for i in range(40):
            async with http.post(
                f"{demo.base_url}/widget/{WIDGET_ID}/visitors",
                headers={"Origin": demo.base_url, "X-Forwarded-For": f"203.0.113.{i}"},
            ) as response:
                statuses.append(response.status)
    minted = statuses.count(200)
    # The address's burst is 20: anything beyond it minted thanks to the header is a success.
    row.statuses(statuses, succeeded=max(0, minted - 20))
    assert minted <= 20 and set(statuses) <= {200, 429}
    assert row.succeeded == 0 and row.server_errors == 0
