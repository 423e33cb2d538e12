"""The worker against a recording fake sender: order, faults, handlers, merging, priorities."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bridge.errors import PermanentError, RecipientUnreachable, RetryAfter, TransientError
from bridge.outbox import HandlerRegistry, OutboxWorker, enqueue
from storage import outbox as store
from storage.models import OutboxItem
from tests.bridge.outbox.helpers import RecordingSender, open_db, telegram_policy, wait_for


@pytest.fixture
async def factory(db_url: str):
    engine, sf = await open_db(db_url)
    yield sf
    await engine.dispose()


def make_worker(sf, sender, *, scale: float = 1000.0, burst: int = 2, **kw) -> OutboxWorker:
    """`burst=1`: a group takes no short burst, so a second post waits for its slot."""
    kw.setdefault("backoff_base", 0.02)
    kw.setdefault("poll_interval", 0.05)
    policy = telegram_policy(time_scale=scale, chat_burst=burst)
    return OutboxWorker(sf, {"telegram": sender}, policy, owner_id="w1", **kw)


def text_payload(n: int, author: str = "Ivan", thread: int = 7) -> dict[str, Any]:
    body = f"message {n}"
    return {
        "method": "sendMessage",
        "params": {"chat_id": -100, "message_thread_id": thread, "text": body},
        "part": {"author": author, "at": "14:02", "html": body},
    }


async def put(sf, *, lane: str = "L", dest: str = "-100", kind: str = "call", **kw) -> int:
    kw.setdefault("payload", {"n": lane})
    async with sf() as s:
        row = await enqueue(s, platform="telegram", destination=dest, lane=lane, kind=kind, **kw)
        await s.commit()
        return row.id


async def rows(sf) -> dict[int, OutboxItem]:
    from sqlmodel import select

    async with sf() as s:
        return {r.id: r for r in (await s.exec(select(OutboxItem))).all()}


async def test_lanes_keep_id_order_under_concurrency(factory) -> None:
    sender = RecordingSender(latency=0.005)
    ids: dict[str, list[int]] = {}
    for _ in range(10):
        for lane in ("a", "b", "c", "d"):
            ids.setdefault(lane, []).append(await put(factory, lane=lane, dest=f"u{lane}"))
    worker = make_worker(factory, sender, concurrency=8)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 40)
    await worker.stop()
    for lane, expected in ids.items():
        sent = [c["ids"][0] for c in sender.delivered if c["lane"] == lane]
        assert sent == expected


async def test_transient_errors_are_retried_until_success(factory) -> None:
    sender = RecordingSender()
    sender.fail_next(TransientError("500"), TransientError("timeout"), TransientError("502"))
    row_id = await put(factory)
    worker = make_worker(factory, sender)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    await worker.stop()
    row = (await rows(factory))[row_id]
    assert row.state == "done" and row.attempts == 3 and row.result == {"message_id": 1001}
    assert worker.stats.retried == 3


async def test_transient_alarm_after_threshold(factory, caplog) -> None:
    sender = RecordingSender()
    sender.fail_next(*[TransientError("503") for _ in range(8)])
    await put(factory)
    worker = make_worker(factory, sender, alarm_after_seconds=0.05, backoff_max=0.05)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    await worker.stop()
    assert any("outbox ALARM" in r.getMessage() for r in caplog.records)


async def test_permanent_failure_marks_reason_calls_handler_and_frees_lane(factory) -> None:
    registry = HandlerRegistry()
    seen: list[tuple[int, str]] = []

    @registry.on_failed("relay")
    async def relay_failed(session, item, error) -> None:
        seen.append((item.id, error.reason))

    sender = RecordingSender()
    sender.fail_next(RecipientUnreachable("Forbidden: bot was blocked by the user"))
    first = await put(factory, handler="relay")
    second = await put(factory)
    worker = make_worker(factory, sender, handlers=registry)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    await worker.stop()
    stored = await rows(factory)
    assert stored[first].state == "failed"
    assert stored[first].last_error == "Forbidden: bot was blocked by the user"
    assert seen == [(first, "Forbidden: bot was blocked by the user")]
    assert stored[second].state == "done"


async def test_retry_after_is_honoured_never_earlier(factory) -> None:
    sender = RecordingSender()
    sender.fail_next(RetryAfter(1, "Too Many Requests: retry after 1"))
    await put(factory)
    worker = make_worker(factory, sender)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    await worker.stop()
    refused, sent = sender.calls
    assert sent["at"] - refused["at"] >= 1.0
    assert worker.stats.rate_limited == 1


async def test_retry_after_slows_the_whole_destination(factory) -> None:
    sender = RecordingSender()
    sender.fail_next(RetryAfter(1))
    await put(factory, lane="a")
    await put(factory, lane="b")
    worker = make_worker(factory, sender)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 2)
    await worker.stop()
    assert min(c["at"] for c in sender.delivered) - sender.calls[0]["at"] >= 1.0


async def test_completion_handler_gets_result_in_the_same_transaction(factory) -> None:
    registry = HandlerRegistry()
    recorded: list[tuple[int, Any, str]] = []

    @registry.on_done("card_posted")
    async def card_posted(session, item, result) -> None:
        recorded.append((item.id, result["message_id"], item.state))

    sender = RecordingSender()
    row_id = await put(factory, handler="card_posted")
    worker = make_worker(factory, sender, handlers=registry)
    await worker.start()
    await wait_for(lambda: len(recorded) == 1)
    await worker.stop()
    assert recorded == [(row_id, 1001, "done")]


async def test_failing_completion_handler_still_marks_the_row_done(factory) -> None:
    registry = HandlerRegistry()

    @registry.on_done("broken")
    async def broken(session, item, result) -> None:
        raise RuntimeError("bug")

    sender = RecordingSender()
    row_id = await put(factory, handler="broken")
    worker = make_worker(factory, sender, handlers=registry)
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    await wait_for(lambda: worker.in_flight == 0)
    await worker.stop()
    row = (await rows(factory))[row_id]
    assert row.state == "done" and "handler failed" in row.last_error
    assert len(sender.calls) == 1


async def test_held_back_texts_merge_and_every_row_gets_the_message_id(factory) -> None:
    registry = HandlerRegistry()
    links: list[tuple[int, int]] = []

    @registry.on_done("relay")
    async def relay(session, item, result) -> None:
        links.append((item.id, result["message_id"]))

    sender = RecordingSender()
    # No burst and 1 post per ~0.5 s: the first goes at once, the rest wait and merge.
    worker = make_worker(factory, sender, scale=2.0, burst=1, handlers=registry)
    await worker.start()

    async def relay_text(n: int) -> int:
        return await put(
            factory,
            lane="t7",
            kind="text",
            coalesce_key="t7",
            payload=text_payload(n),
            handler="relay",
        )

    ids = [await relay_text(0)]
    await wait_for(lambda: len(sender.delivered) == 1)
    for n in range(1, 5):
        ids.append(await relay_text(n))
        worker.wake()
    await wait_for(lambda: len(sender.delivered) == 2, within=8, info=lambda: sender.calls)
    await worker.stop()
    first, merged = sender.delivered
    assert first["ids"] == (ids[0],)
    assert merged["ids"] == tuple(ids[1:])
    text = merged["payload"]["params"]["text"]
    assert text.index("message 1") < text.index("message 4")
    assert text.startswith("<b>Ivan</b> · 14:02\nmessage 1")
    assert sorted(links) == [(ids[0], 1001)] + [(i, 1002) for i in ids[1:]]


async def test_stop_with_drain_leaves_waiting_rows_pending(factory) -> None:
    sender = RecordingSender()
    worker = make_worker(factory, sender, scale=1.0, burst=1)
    await put(factory, lane="a")
    await put(factory, lane="b")  # same group, no burst: waits ~1 s for its slot
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    started = time.monotonic()
    await worker.stop(drain=True)
    assert time.monotonic() - started < 1.0
    async with factory() as s:
        assert await store.count_by_state(s) == {"done": 1, "pending": 1}


async def test_replies_overtake_dashboard_updates(factory) -> None:
    sender = RecordingSender()
    await put(
        factory, lane="dash", kind="dashboard", coalesce_key="d", priority=200, payload={"v": 1}
    )
    await put(
        factory, lane="dash", kind="dashboard", coalesce_key="d", priority=200, payload={"v": 2}
    )
    reply = await put(factory, lane="reply", priority=10)
    worker = make_worker(factory, sender, scale=5.0)
    await worker.start()
    # A quiet group takes both at once (a short burst), so check the order, not a pause.
    await wait_for(lambda: len(sender.delivered) == 2)
    await worker.stop()
    assert sender.delivered[0]["ids"] == (reply,)
    assert sender.delivered[1]["payload"] == {"v": 2}
    async with factory() as s:
        assert await store.count_by_state(s) == {"done": 2, "superseded": 1}


async def test_permanent_error_for_merged_rows_fails_each(factory) -> None:
    sender = RecordingSender()
    worker = make_worker(factory, sender, scale=2.0, burst=1)
    await put(factory, lane="t", kind="text", coalesce_key="t", payload=text_payload(0))
    await worker.start()
    await wait_for(lambda: len(sender.delivered) == 1)
    sender.fail_next(PermanentError("Bad Request: chat not found"))
    for n in (1, 2):
        await put(factory, lane="t", kind="text", coalesce_key="t", payload=text_payload(n))
    await wait_for(lambda: worker.stats.failed == 2, within=8)
    await worker.stop()
    async with factory() as s:
        assert await store.count_by_state(s) == {"done": 1, "failed": 2}


async def test_a_row_whose_handler_is_not_registered_is_kept_unsent_for_a_worker_that_knows_it(
    factory,
) -> None:
    # E.g. a worker process started without the desk's handlers: sending the row would lose
    # what its handler records (a card's message id) while the row said "done".
    sender = RecordingSender()
    kept = await put(factory, lane="a", handler="card_posted")
    plain = await put(factory, lane="b")
    worker = make_worker(factory, sender, alarm_after_seconds=0.05)
    await worker.start()
    await wait_for(lambda: sender.delivered_ids() == [plain])
    await wait_for(lambda: worker.stats.retried >= 2)  # tried again, still not sent
    await worker.stop()
    row = (await rows(factory))[kept]
    assert row.state == "pending" and row.attempts >= 2
    assert "no handler 'card_posted' registered in this worker" in row.last_error
    assert sender.delivered_ids() == [plain] and len(sender.calls) == 1

    registry = HandlerRegistry()
    recorded: list[int] = []

    @registry.on_done("card_posted")
    async def card_posted(session, item, result) -> None:
        recorded.append(item.id)

    knowing = make_worker(factory, sender, handlers=registry)
    await knowing.start()
    await wait_for(lambda: recorded == [kept], within=10)
    await knowing.stop()
    assert (await rows(factory))[kept].state == "done"


def test_the_registry_takes_each_name_once_and_knows_what_it_holds() -> None:
    registry = HandlerRegistry()

    async def done(session, item, result) -> None:
        return None

    registry.register("relay", done=done)
    assert registry.knows("relay") and registry.knows(None) and not registry.knows("other")
    with pytest.raises(ValueError, match="already registered"):
        registry.register("relay", done=done)
    with pytest.raises(ValueError, match="done=, failed="):
        registry.register("nothing")
