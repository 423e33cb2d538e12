"""Bodies and downloads are read whole, under a cap: big files arrive byte-exact, over-cap
bodies are refused with 413 and change nothing (the whole bridge, against the fakes).

A body that arrives in several TCP writes (chunked, or a slow client or server) used to be cut
at what happened to be buffered: these tests send such bodies on purpose.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

from adapters.site.adapter import SiteAdapter
from tests.adapters.contract.harness import (
    ORIGIN,
    TG_SECRET,
    WIDGET,
    Bridge,
    VkCustomer,
    eventually,
    running_bridge,
)

MB = 1024 * 1024


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def trickle(
    data: bytes, chunk: int = 64 * 1024, pause: float = 0.002
) -> AsyncIterator[bytes]:
    """`data` as a chunked body (no Content-Length), written in pieces with pauses."""
    for start in range(0, len(data), chunk):
        yield data[start : start + chunk]
        await asyncio.sleep(pause)


def pdf_of(size: int) -> bytes:
    """A PDF-looking file of exactly `size` bytes with content that differs along its length."""
    head = b"%PDF-1.4\n"
    body = b"".join(i.to_bytes(4, "big") for i in range((size - len(head)) // 4 + 1))
    return head + body[: size - len(head)]


async def post(bridge: Bridge, path: str, body: object, headers: dict[str, str]) -> int:
    """POST `body` to the bridge; the HTTP status of its answer."""
    async with bridge.http.post(bridge.url + path, data=body, headers=headers) as response:
        await response.read()
        return response.status


# ---- webhooks -------------------------------------------------------------------------------


def big_update(size: int) -> bytes:
    update = {
        "update_id": 77_000_001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": 4242, "type": "private", "first_name": "Big"},
            "from": {"id": 4242, "is_bot": False, "first_name": "Big"},
            "text": "x" * size,
        },
    }
    return json.dumps(update).encode()


async def test_an_oversize_telegram_update_is_refused_with_413_and_changes_nothing(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        before = await bridge.stored_rows()
        body = big_update(2 * MB)
        declared = await post(bridge, "/webhooks/telegram", body, headers)
        chunked = await post(bridge, "/webhooks/telegram", trickle(body), headers)
        assert (declared, chunked) == (413, 413)
        for path in ("/webhooks/vk", "/webhooks/viber", "/webhooks/facebook"):
            assert await post(bridge, path, trickle(b"{" + b" " * (2 * MB) + b"}"), {}) == 413
        assert await bridge.stored_rows() == before
        # An update of ordinary size still goes through the same route.
        small = json.loads(big_update(10))
        small["update_id"] += 1
        assert await post(bridge, "/webhooks/telegram", json.dumps(small).encode(), headers) == 200
        assert (await bridge.stored_rows())["messages"] == before["messages"] + 1


# ---- the widget's uploads -------------------------------------------------------------------


def site_adapter(bridge: Bridge) -> SiteAdapter:
    return next(c for c in bridge.service.components if isinstance(c, SiteAdapter))


async def visitor_token(bridge: Bridge) -> str:
    url = f"{bridge.url}/widget/{WIDGET}/visitors"
    async with bridge.http.post(url, headers={"Origin": ORIGIN}) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["token"])


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_a_20_mb_widget_upload_is_refused_and_nothing_is_kept(sqlite_url: str) -> None:
    async with running_bridge(sqlite_url) as bridge:
        adapter = site_adapter(bridge)
        token = await visitor_token(bridge)
        headers = {
            "Origin": ORIGIN,
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/pdf",
            "X-File-Name": "huge.pdf",
        }
        huge = pdf_of(20 * MB)
        path = f"/widget/{WIDGET}/uploads"
        url = bridge.url + path
        async with bridge.http.post(url, data=huge, headers=headers) as response:
            assert response.status == 413
            assert "5 MB" in (await response.json())["error"]
            assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert await post(bridge, path, trickle(huge, chunk=256 * 1024), headers) == 413
        assert stored_files(adapter.files.root) == []


async def test_a_file_just_under_the_limit_sent_slowly_arrives_byte_exact(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        adapter = site_adapter(bridge)
        token = await visitor_token(bridge)
        data = pdf_of(adapter.files.max_size - 1)
        headers = {
            "Origin": ORIGIN,
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/pdf",
            "X-File-Name": "contract.pdf",
        }
        url = f"{bridge.url}/widget/{WIDGET}/uploads"
        async with bridge.http.post(url, data=trickle(data), headers=headers) as response:
            assert response.status == 200, await response.text()
            shown = (await response.json())["file"]
        assert shown["size"] == len(data)
        visitor = token.split(".")[0]
        found = adapter.files.find(WIDGET, visitor, shown["id"])
        assert found is not None
        assert sha256(found[0].read_bytes()) == sha256(data)
        async with bridge.http.get(bridge.url + shown["url"]) as served:
            assert sha256(await served.read()) == sha256(data)


# ---- an operator's file re-uploaded to VK ---------------------------------------------------


async def test_an_operators_5_mb_document_reaches_a_vk_customer_byte_exact(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        bridge.telegram.slow_downloads(chunk_size=32 * 1024, pause=0.001)
        customer = VkCustomer(bridge)
        await customer.says("please send the contract")
        thread_id = await bridge.accept()
        await eventually(
            lambda: any("please send the contract" in t for t in bridge.topic_texts(thread_id)),
            wait=30,
            what="the conversation's history in its topic",
        )
        data = pdf_of(5 * MB)
        bridge.telegram.user_sends_document(
            bridge.ann, data, "contract.pdf", chat_id=bridge.group_id, topic=thread_id
        )

        def received_doc() -> dict[str, object] | None:
            for message in bridge.vk.received(customer.user_id):
                for attachment in message.get("attachments") or []:
                    if attachment["type"] == "doc":
                        return dict(attachment["doc"])
            return None

        doc = await eventually(received_doc, wait=30, what="the document at the VK customer")
        key = str(doc["url"]).rsplit("/_files/", 1)[1]
        kept = bridge.vk.state.files[key].data
        assert len(kept) == len(data)
        assert sha256(kept) == sha256(data)
