"""Upload floods against the site widget (issue 14): past a visitor's quota and past a client
address's quota, nothing more lands on disk. Against the whole service (`demo`), over real HTTP.

The quotas are set small on the demo widget's adapter (the real ones are megabytes a day,
adapters/site/quotas.py) and its per-minute upload rate is lifted, so what holds the flood back
here is the quota alone. What got through is read from the files folder, not from statuses.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.site.adapter import SiteAdapter
from adapters.site.limits import Rate, RateLimiter
from adapters.site.quotas import DAY, Quota, UploadQuotas
from app.demo import DemoRunner
from sandbox.demo.settings import WIDGET_ID
from tests.security.abuse import Attack, Ledger, WebhookProbe

pytestmark = pytest.mark.timeout(90)

FILE = b"\x89PNG\r\n\x1a\n" + b"\x00" * (20_000 - 8)  # 20 kB
ALLOWED = 5  # files a quota lets through
ADDRESS = "198.51.100.23"  # the flooding client, behind the (trusted) local proxy


@pytest.fixture
def demo_changes() -> dict[str, Any]:
    return {"http": {"trusted_proxies": ["127.0.0.0/8"]}}


def widget(demo: DemoRunner) -> SiteAdapter:
    assert demo.service is not None
    (adapter,) = (c for c in demo.service.components if getattr(c, "channel", None) == "site:demo")
    assert isinstance(adapter, SiteAdapter)
    return adapter


def set_quotas(
    adapter: SiteAdapter, *, visitor: int, address: int, widget: int = 1_000_000
) -> None:
    adapter.upload_limit = RateLimiter(Rate(per_minute=60_000, burst=10_000))
    adapter.upload_quotas = UploadQuotas(
        adapter.files.root / WIDGET_ID,
        visitor=Quota(visitor * len(FILE), DAY),
        address=Quota(address * len(FILE), DAY),
        widget=widget * len(FILE),
    )


def stored_uploads(adapter: SiteAdapter) -> list[Path]:
    folder = adapter.files.root / WIDGET_ID
    if not folder.exists():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and p.suffix != ".json"]


async def new_token(http: aiohttp.ClientSession, base: str) -> str:
    headers = {"Origin": base, "X-Forwarded-For": ADDRESS}
    async with http.post(f"{base}/widget/{WIDGET_ID}/visitors", headers=headers) as response:
        assert response.status == 200
        return str((await response.json())["token"])


async def flood(http: aiohttp.ClientSession, base: str, tokens: list[str], each: int) -> list[int]:
    """`each` uploads per visitor token, all at once."""

    async def one(token: str) -> int:
        headers = {
            "Origin": base,
            "Authorization": f"Bearer {token}",
            "Content-Type": "image/png",
            "X-Forwarded-For": ADDRESS,
        }
        url = f"{base}/widget/{WIDGET_ID}/uploads"
        async with http.post(url, data=FILE, headers=headers) as response:
            await response.read()
            return response.status

    return list(await asyncio.gather(*(one(t) for t in tokens for _ in range(each))))


def record(row: Attack, statuses: list[int], adapter: SiteAdapter) -> None:
    beyond = max(0, len(stored_uploads(adapter)) - ALLOWED)
    row.statuses(statuses, succeeded=beyond)


async def test_upload_flood_past_the_visitor_quota(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("upload flood past the visitor quota")
    adapter = widget(demo)
    set_quotas(adapter, visitor=ALLOWED, address=1000)
    async with aiohttp.ClientSession() as http, WebhookProbe(demo.base_url, row):
        token = await new_token(http, demo.base_url)
        statuses = await flood(http, demo.base_url, [token], each=40)
    record(row, statuses, adapter)

    assert sorted(statuses) == [200] * ALLOWED + [429] * (40 - ALLOWED)
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok


async def test_upload_flood_past_the_address_quota(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("upload flood past the address quota")
    adapter = widget(demo)
    set_quotas(adapter, visitor=1000, address=ALLOWED)
    async with aiohttp.ClientSession() as http, WebhookProbe(demo.base_url, row):
        tokens = [await new_token(http, demo.base_url) for _ in range(10)]
        statuses = await flood(http, demo.base_url, tokens, each=4)
    record(row, statuses, adapter)

    assert sorted(statuses) == [200] * ALLOWED + [429] * (40 - ALLOWED)
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok


async def test_upload_flood_past_the_widgets_storage(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("upload flood past the widget's storage quota")
    adapter = widget(demo)
    set_quotas(adapter, visitor=1000, address=1000, widget=ALLOWED)
    async with aiohttp.ClientSession() as http, WebhookProbe(demo.base_url, row):
        tokens = [await new_token(http, demo.base_url) for _ in range(10)]
        statuses = await flood(http, demo.base_url, tokens, each=4)
    record(row, statuses, adapter)

    assert statuses.count(200) <= ALLOWED and set(statuses) <= {200, 429}, statuses
    assert 429 in statuses
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok
