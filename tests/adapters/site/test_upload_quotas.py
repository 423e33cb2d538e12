"""Upload quotas of the widget (issue 14): per visitor, per client address, per widget on disk.

Over real HTTP with small figures set on the adapter (the real ones are megabytes, see
adapters/site/quotas.py) and a clock the test moves, so "a day later" takes no time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.site.limits import Rate, RateLimiter
from adapters.site.quotas import RESCAN, Quota, UploadQuotas
from bridge.core.texts import text
from tests.adapters.site.harness import (
    SHOP_ORIGIN,
    WIDGET,
    Bridge,
    close_bridge,
    open_bridge,
)
from tests.adapters.site.test_widget_api import auth, new_token

FILE = b"\x89PNG\r\n\x1a\n" + b"\x00" * 992  # 1000 bytes
HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def shop(bridge: Bridge):
    (adapter,) = (a for a in bridge.site.adapters if a.widget_id == WIDGET)
    return adapter


def small_quotas(
    bridge: Bridge, clock: Clock, *, visitor: int, address: int, widget: int
) -> UploadQuotas:
    """Quotas of a few files on the shop widget, and no per-minute upload rate in the way."""
    adapter = shop(bridge)
    adapter.upload_limit = RateLimiter(Rate(per_minute=6000, burst=1000))
    adapter.upload_quotas = UploadQuotas(
        bridge.site.files.root / WIDGET,
        visitor=Quota(visitor, HOUR),
        address=Quota(address, HOUR),
        widget=widget,
        clock=clock,
    )
    return adapter.upload_quotas


def uploads_on_disk(bridge: Bridge) -> list[Path]:
    """Every stored file of the widget (descriptions and partial files included)."""
    folder = bridge.site.files.root / WIDGET
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


async def upload(client, token: str, forwarded: str | None = None, query: str = ""):
    headers = {**auth(token), "Content-Type": "image/png", "X-File-Name": "photo.png"}
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    return await client.post(f"/widget/{WIDGET}/uploads{query}", data=FILE, headers=headers)


@pytest.fixture
async def proxied(tmp_path) -> AsyncIterator[Bridge]:
    bridge = await open_bridge(tmp_path, [SHOP_ORIGIN], http={"trusted_proxies": ["127.0.0.0/8"]})
    yield bridge
    await close_bridge(bridge)


async def test_a_visitor_past_their_quota_gets_429_with_retry_after_and_nothing_is_stored(
    client, bridge
):
    clock = Clock()
    small_quotas(bridge, clock, visitor=3 * len(FILE), address=100 * len(FILE), widget=10**9)
    token = await new_token(client)
    for _ in range(3):
        assert (await upload(client, token)).status == 200
        clock.now += 60
    stored = uploads_on_disk(bridge)
    assert len(stored) == 6  # three files and their descriptions

    refused = await upload(client, token)
    assert refused.status == 429
    # The first file leaves the hour's window 3 minutes before the hour is up from now.
    assert refused.headers["Retry-After"] == str(int(HOUR - 180))
    assert refused.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    body = await refused.json()
    assert body["error"] == body["notice"] == text("en", "customer.widget_upload_quota")
    assert uploads_on_disk(bridge) == stored

    # Another visitor is not held back by this one's quota.
    assert (await upload(client, await new_token(client))).status == 200
    # Once the first file has aged out of the window, one more fits.
    clock.now += HOUR - 180
    assert (await upload(client, token)).status == 200
    assert (await upload(client, token)).status == 429


async def test_an_address_past_its_quota_is_refused_whichever_visitor_it_uses(
    proxied, aiohttp_client
):
    client = await aiohttp_client(proxied.app())
    clock = Clock()
    small_quotas(proxied, clock, visitor=10 * len(FILE), address=4 * len(FILE), widget=10**9)
    statuses = []
    for _ in range(3):  # a script minting visitors behind one address
        token = await new_token(client)
        statuses += [(await upload(client, token, "198.51.100.7")).status for _ in range(2)]
    assert statuses == [200] * 4 + [429] * 2
    assert len(uploads_on_disk(proxied)) == 4 * 2
    # The same proxy forwards another client: not refused.
    assert (await upload(client, await new_token(client), "203.0.113.9")).status == 200


async def test_a_full_widget_refuses_uploads_with_429_counting_what_is_on_disk(client, bridge):
    clock = Clock()
    # Files kept before this process started (an operator's file for some visitor).
    kept = bridge.site.files.root / WIDGET / "earlier-visitor-0000" / "kept-file-0123456789"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"x" * 5000)
    small_quotas(bridge, clock, visitor=10**9, address=10**9, widget=5000 + len(FILE) + 500)
    token = await new_token(client)
    assert (await upload(client, token)).status == 200
    refused = await upload(client, token)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "60"  # when the folder is read again
    assert (await refused.json())["notice"] == text("en", "customer.widget_storage_full")
    assert len(uploads_on_disk(bridge)) == 3

    # Retention deletes the old file; the next reading of the folder sees the room.
    kept.unlink()
    clock.now += RESCAN
    assert (await upload(client, token)).status == 200


async def test_refusals_speak_the_widget_pages_language_or_the_configs(tmp_path, aiohttp_client):
    bridge = await open_bridge(tmp_path, [SHOP_ORIGIN], language="ru")
    try:
        client = await aiohttp_client(bridge.app())
        small_quotas(bridge, Clock(), visitor=len(FILE), address=10**9, widget=10**9)
        token = await new_token(client)
        assert (await upload(client, token)).status == 200
        russian = await (await upload(client, token)).json()
        assert russian["notice"] == text("ru", "customer.widget_upload_quota")
        english = await (await upload(client, token, query="?lang=en")).json()
        assert english["notice"] == text("en", "customer.widget_upload_quota")
    finally:
        await close_bridge(bridge)


async def test_a_rescan_keeps_what_concurrent_uploads_added(tmp_path: Path) -> None:
    """Uploads that land while the folder is walked are never forgotten by the scan (a scan
    that overwrote the total let a flood of concurrent uploads past the widget's quota)."""
    import asyncio

    from adapters.site.quotas import StoredTotal

    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "old.png").write_bytes(FILE)
    stored = StoredTotal(folder)
    first = asyncio.create_task(stored.current())
    await asyncio.sleep(0)  # the scan is under way in its thread
    second = asyncio.create_task(stored.current())  # waits for the same scan
    stored.add(500)  # an upload stored meanwhile
    assert await first >= len(FILE) + 500
    assert await second >= len(FILE) + 500
