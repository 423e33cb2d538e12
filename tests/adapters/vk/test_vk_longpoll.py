"""The VK adapter over Bots Long Poll against the fake VK: events reach the core, nothing lost."""

from __future__ import annotations

from collections.abc import Callable

from adapters.vk.adapter import VkAdapter
from bridge.events import Outbound
from sandbox.runner import RunningApp, start_app
from sandbox.vk import FakeVK
from tests.adapters.outbox_rows import reply_row
from tests.adapters.recording_sink import RecordingSink


async def test_customer_text_reaches_the_core_with_the_vk_name(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(501, "Ivan", "Petrov")
    adapter = make_adapter()
    await adapter.start()
    sent = await fake_vk.customer_message(501, "Hello, my order is late")
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    event = sink.inbound_events[0]
    assert (event.channel, event.chat, event.user) == ("vk", "501", "501")
    assert event.external_id == str(sent["id"])
    assert event.text == "Hello, my order is late"
    assert event.profile is not None and event.profile.full_name == "Ivan Petrov"
    assert adapter.state().state == "running"


async def test_every_attachment_kind_arrives_as_its_bridge_kind(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(502, "Olga", "Sidorova")
    await make_adapter().start()
    kinds = ["photo", "doc", "audio_message", "sticker", "wall"]
    await fake_vk.customer_message(502, "", kinds)
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    attachments = sink.inbound_events[0].attachments
    assert [a.kind for a in attachments] == ["photo", "document", "voice", "sticker", "link"]
    photo, doc, voice, sticker, wall = attachments
    assert photo.url and photo.url.startswith(fake_vk.public_url)
    assert photo.file_ref and photo.file_ref.startswith("photo502_")
    assert doc.file_name == "report.pdf" and doc.size == 14
    assert voice.url and voice.mime_type == "audio/ogg"
    assert sticker.url
    assert wall.url and wall.url.startswith("https://vk.com/wall-77_")


async def test_deleted_account_stays_a_guest(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(503, "Gone", "User", deactivated="deleted")
    await make_adapter().start()
    await fake_vk.customer_message(503, "hi")
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    assert sink.inbound_events[0].profile is None


async def test_an_edit_is_reported_as_an_edit_of_the_message(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(504, "Anna", "K")
    await make_adapter().start()
    first = await fake_vk.customer_message(504, "helo")
    await fake_vk.customer_edits(504, first["id"], "hello")
    await sink.wait_for(lambda s: len(s.inbound_events) == 2)
    edit = sink.inbound_events[1]
    assert edit.edit_of == str(first["id"]) and edit.text == "hello"
    assert edit.external_id != sink.inbound_events[0].external_id


async def test_deny_and_allow_change_reachability(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(505, "Petr", "P")
    await make_adapter().start()
    await fake_vk.customer_denies(505)
    await fake_vk.customer_allows(505)
    await sink.wait_for(lambda s: len(s.reachability_changes) == 2)
    assert [(c[1], c[2]) for c in sink.reachability_changes] == [("505", False), ("505", True)]


async def test_writing_after_a_deny_lets_the_sender_write_again(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(507, "Vera", "V")
    adapter = make_adapter()
    await adapter.start()
    await fake_vk.customer_denies(507)
    await sink.wait_for(lambda s: len(s.reachability_changes) == 1)
    await fake_vk.customer_message(507, "I'm back")
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    await adapter.sender.deliver(reply_row("vk", Outbound("vk", "507", "Welcome back")))
    assert [m["text"] for m in fake_vk.received(507)] == ["Welcome back"]


async def test_failed_1_2_3_are_survived_without_losing_the_next_message(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(506, "Max", "M")
    adapter = make_adapter()
    poller = adapter.poller
    assert poller is not None
    await adapter.start()
    for failed in (1, 2, 3):
        polls = poller.polls
        fake_vk.longpoll.force_failure(failed)
        # `failed: 1` means VK's history moved on; what was sent before it may be gone, so
        # the customer writes once the poller has recovered.
        await sink.wait_for(lambda s, p=polls: poller.polls > p)
        await fake_vk.customer_message(506, f"after failed {failed}")
        await sink.wait_for(lambda s, n=failed: len(s.inbound_events) == n)
    assert [e.text for e in sink.inbound_events] == [
        "after failed 1",
        "after failed 2",
        "after failed 3",
    ]
    server_fetches = fake_vk.calls.calls("groups.getLongPollServer")
    assert len(server_fetches) == 3  # start, failed 2, failed 3


async def test_ts_is_not_advanced_while_the_core_cannot_commit(
    fake_vk: FakeVK, sink: RecordingSink, make_adapter: Callable[..., VkAdapter]
) -> None:
    fake_vk.add_user(507, "Lev", "L")
    adapter = make_adapter()
    assert adapter.poller is not None
    adapter.poller._retry_delay = 0.05
    await adapter.start()
    ts_before = adapter.poller.ts
    sink.fail_next = 3
    await fake_vk.customer_message(507, "must not be lost")
    await sink.wait_for(lambda s: s.calls >= 2)
    assert adapter.poller.ts == ts_before  # held back while the commit fails
    assert adapter.state().state == "degraded"
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    assert sink.inbound_events[0].text == "must not be lost"
    assert adapter.poller.ts != ts_before


async def test_a_lost_connection_is_resumed_without_losing_events(
    fake_vk_served: tuple[FakeVK, RunningApp],
    sink: RecordingSink,
    make_adapter: Callable[..., VkAdapter],
) -> None:
    fake_vk, running = fake_vk_served
    fake_vk.add_user(508, "Ira", "I")
    adapter = make_adapter()
    assert adapter.poller is not None
    adapter.poller._retry_delay = 0.05
    adapter.poller._max_retry_delay = 0.2
    await adapter.start()
    await fake_vk.customer_message(508, "before the outage")
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    # The server goes away (connections cut); the customer keeps writing meanwhile.
    await running.runner.shutdown()
    await running.runner.cleanup()
    await fake_vk.customer_message(508, "during the outage 1")
    await fake_vk.customer_message(508, "during the outage 2")
    await sink.wait_for(lambda s: s is not None and adapter.state().state == "degraded")
    again = await start_app(fake_vk.app, port=running.port)
    try:
        await sink.wait_for(lambda s: len(s.inbound_events) == 3)
    finally:
        await adapter.stop()
        await again.runner.cleanup()
    assert [e.text for e in sink.inbound_events] == [
        "before the outage",
        "during the outage 1",
        "during the outage 2",
    ]
