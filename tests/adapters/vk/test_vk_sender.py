"""Replies to VK customers through the outbox sender, against the fake VK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from adapters.vk.adapter import VkAdapter
from bridge.errors import PermanentError, RecipientUnreachable, RetryAfter, TransientError
from bridge.events import Attachment, Outbound
from sandbox.vk import FakeVK
from sandbox.vk.state import tiny_png
from storage.customers import set_customer_reachable, upsert_customer
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_async
from tests.adapters.outbox_rows import reply_row
from tests.adapters.recording_sink import RecordingSink


@pytest.fixture
async def adapter(fake_vk: FakeVK, make_adapter: Callable[..., VkAdapter]) -> VkAdapter:
    fake_vk.add_user(701, "Nina", "N")
    await fake_vk.customer_message(701, "hello")  # she wrote first, so she may be answered
    return make_adapter()


async def test_a_text_reply_reaches_the_customer(fake_vk: FakeVK, adapter: VkAdapter) -> None:
    result = await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", "Good morning")))
    [received] = fake_vk.received(701)
    assert received["text"] == "Good morning"
    assert result["message_id"] == str(received["id"])


async def test_retrying_the_same_outbox_row_sends_once(
    fake_vk: FakeVK, adapter: VkAdapter
) -> None:
    row = reply_row("vk", Outbound("vk", "701", "only once"))
    first = await adapter.sender.deliver(row)
    second = await adapter.sender.deliver(row)  # e.g. after a crash before mark-done
    assert len(fake_vk.received(701)) == 1
    assert first == second
    random_ids = {c.params["random_id"] for c in fake_vk.calls.calls("messages.send")}
    assert len(random_ids) == 1


async def test_a_photo_is_uploaded_through_the_upload_server(
    fake_vk: FakeVK, adapter: VkAdapter
) -> None:
    photo = Attachment("photo", data=tiny_png(), file_name="receipt.png", mime_type="image/png")
    await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", "see", (photo,))))
    [received] = fake_vk.received(701)
    assert [a["type"] for a in received["attachments"]] == ["photo"]
    assert fake_vk.calls.calls("photos.saveMessagesPhoto")


async def test_a_document_from_a_url_is_uploaded_as_a_doc(
    fake_vk: FakeVK, adapter: VkAdapter
) -> None:
    customer_doc = (await fake_vk.customer_message(701, "", ["doc"]))["attachments"][0]["doc"]
    document = Attachment("document", url=customer_doc["url"], file_name="contract.pdf")
    await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", "", (document,))))
    [received] = fake_vk.received(701)
    [attachment] = received["attachments"]
    assert attachment["type"] == "doc" and attachment["doc"]["title"] == "contract.pdf"


async def test_a_long_text_is_split_into_messages_vk_accepts(
    fake_vk: FakeVK, adapter: VkAdapter
) -> None:
    text = ("line of text\n" * 1200).strip()  # 15,599 characters
    result = await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", text)))
    received = fake_vk.received(701)
    assert len(received) == 2 == len(result["message_ids"])
    assert all(len(m["text"]) <= 9000 for m in received)
    assert "\n".join(m["text"] for m in received) == text


async def test_a_customer_who_denied_messages_is_not_written_to(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter], sqlite_url: str
) -> None:
    fake_vk.add_user(701, "Nina", "N")
    await fake_vk.customer_message(701, "hello")
    await upgrade_async(sqlite_url)
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)

    @asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        async with sessions() as session, session.begin():
            yield session

    try:
        adapter = make_adapter(transaction=transaction)
        await adapter.start()
        await fake_vk.customer_denies(701)
        await sink.wait_for(lambda s: len(s.reachability_changes) == 1)
        async with transaction() as session:  # what the core records for the denial
            customer = await upsert_customer(session, "vk", "701", "701", "Nina N")
            assert customer.id is not None
            await set_customer_reachable(session, customer.id, False, "denied")
        sends_before = len(fake_vk.calls.calls("messages.send"))
        with pytest.raises(RecipientUnreachable, match="denied"):
            await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", "hello?")))
        assert len(fake_vk.calls.calls("messages.send")) == sends_before
    finally:
        await engine.dispose()


async def test_vk_refusing_a_user_who_never_allowed_messages_is_unreachable(
    fake_vk: FakeVK, adapter: VkAdapter
) -> None:
    fake_vk.add_user(702, "Silent", "S")
    with pytest.raises(RecipientUnreachable) as caught:
        await adapter.sender.deliver(reply_row("vk", Outbound("vk", "702", "hi")))
    assert caught.value.code == 901


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "error", "error": {"code": 6}}, RetryAfter),
        ({"kind": "error", "error": {"code": 9}}, RetryAfter),
        ({"kind": "error", "error": {"code": 10}}, TransientError),
        ({"kind": "http500"}, TransientError),
        ({"kind": "error", "error": {"code": 914}}, PermanentError),
        ({"kind": "error", "error": {"code": 5}}, PermanentError),
    ],
)
async def test_vk_errors_become_bridge_errors(
    fake_vk: FakeVK, adapter: VkAdapter, fault: dict[str, object], expected: type
) -> None:
    fake_vk.faults.add(endpoint="messages.send", **fault)
    with pytest.raises(expected):
        await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", "x")))
    assert fake_vk.received(701) == []


async def test_a_hanging_vk_is_a_transient_timeout(fake_vk: FakeVK, adapter: VkAdapter) -> None:
    adapter.client.session.timeout = 0.3
    fake_vk.faults.add("hang", endpoint="messages.send", seconds=40)  # 2 s at time_scale 0.05
    with pytest.raises(TransientError):
        await adapter.sender.deliver(reply_row("vk", Outbound("vk", "701", "x")))


async def test_a_payload_that_is_not_a_reply_is_a_permanent_error(adapter: VkAdapter) -> None:
    row = replace(reply_row("vk", Outbound("vk", "701", "x")), payload={"chat": "701"})
    with pytest.raises(PermanentError, match="nothing to send"):
        await adapter.sender.deliver(row)
