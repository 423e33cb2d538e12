"""The outbox alarm: rows failing transiently past `alarm_after_seconds` tell the operators
once per destination, and once more when they go out; the log and /metrics show it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bridge.errors import PermanentError, TransientError
from bridge.outbox import OutboxWorker, PacingPolicy, enqueue
from bridge.outbox.alarm import AlarmTracker, StuckDestination
from bridge.outbox.policy import Limits
from tests.bridge.outbox.helpers import RecordingSender, open_db, wait_for

Sessions = async_sessionmaker[AsyncSession]


def gauge() -> float:
    return REGISTRY.get_sample_value("outbox_transient_alarm") or 0.0


def alarms(event: str) -> float:
    labels = {"platform": "telegram", "event": event}
    return REGISTRY.get_sample_value("outbox_alarms_total", labels) or 0.0


def test_the_tracker_alarms_once_per_destination_and_recovers_when_all_went_out() -> None:
    before = gauge()
    tracker = AlarmTracker(after_seconds=60)
    assert tracker.failed(1, "vk", "7", 10, "502", now=0) == (False, None)
    assert tracker.failed(2, "vk", "7", 11, "502", now=30) == (False, None)
    alarmed, stuck = tracker.failed(1, "vk", "7", 10, "timeout", now=61)
    assert alarmed and stuck == StuckDestination("vk", "7", 1, 10, 0, "timeout")
    assert tracker.failed(1, "vk", "7", 10, "502", now=70) == (True, None)  # told already
    assert tracker.failed(2, "vk", "7", 11, "502", now=95) == (True, None)  # same destination
    assert tracker.alarmed_rows == 2 and gauge() == before + 2
    assert tracker.delivered(1) is None  # row 2 is still stuck
    assert tracker.delivered(2) == stuck  # now the destination is through
    assert tracker.alarmed_rows == 0 and gauge() == before
    assert tracker.delivered(3) is None  # never failed


def test_a_row_that_fails_for_good_leaves_the_alarm_quietly() -> None:
    tracker = AlarmTracker(after_seconds=1)
    tracker.failed(1, "vk", "7", None, "502", now=0)
    assert tracker.failed(1, "vk", "7", None, "502", now=2)[1] is not None
    tracker.gave_up(1)
    assert tracker.alarmed_rows == 0
    _, again = tracker.failed(2, "vk", "7", None, "502", now=3)
    assert again is None  # a new row starts its own clock
    with pytest.raises(ValueError):
        AlarmTracker(after_seconds=0)


class Clock:
    """Real time plus a jump the test makes: five minutes pass in no time."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


class Listener:
    def __init__(self) -> None:
        self.told: list[tuple[str, StuckDestination, float]] = []

    async def stuck(self, session: Any, alarm: StuckDestination, now: float) -> None:
        self.told.append(("stuck", alarm, now))

    async def recovered(self, session: Any, alarm: StuckDestination, now: float) -> None:
        self.told.append(("recovered", alarm, now))


@pytest.fixture
async def factory(db_url: str) -> AsyncIterator[Sessions]:
    engine, sf = await open_db(db_url)
    yield sf
    await engine.dispose()


def make_worker(
    sf: Sessions, sender: RecordingSender, clock: Clock, listener: Listener
) -> OutboxWorker:
    return OutboxWorker(
        sf,
        {"telegram": sender},
        PacingPolicy(Limits(), time_scale=1000),
        owner_id="w1",
        poll_interval=0.05,
        backoff_base=0.02,
        backoff_max=0.05,
        alarm_after_seconds=300,
        alarm=listener,
        clock=clock,
    )


async def put(sf: Sessions, lane: str, conversation_id: int | None) -> int:
    async with sf() as s:
        row = await enqueue(
            s,
            platform="telegram",
            destination="-100",
            lane=lane,
            kind="call",
            payload={"n": lane},
            conversation_id=conversation_id,
        )
        await s.commit()
        assert row.id is not None
        return row.id


class Failing(RecordingSender):
    """Answers 502 while `down`."""

    down = True

    async def deliver(self, item: Any) -> dict[str, Any]:
        if self.down:
            self.calls.append({"at": time.time(), "ids": item.merged_ids, "error": "502"})
            raise TransientError("Bad Gateway (502)")
        return await super().deliver(item)


async def test_stuck_deliveries_tell_the_operators_once_and_once_more_when_through(
    factory: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    clock, listener, sender = Clock(), Listener(), Failing()
    raised, recovered, before = alarms("raised"), alarms("recovered"), gauge()
    first = await put(factory, "a", 41)
    await put(factory, "b", None)
    worker = make_worker(factory, sender, clock, listener)
    await worker.start()
    try:
        await wait_for(lambda: len(sender.calls) >= 6)  # both rows failed a few times
        assert listener.told == []  # not for long yet
        clock.offset = 301.0  # five minutes later, still failing
        await wait_for(lambda: listener.told != [] and gauge() == before + 2)
        kind, alarm, _ = listener.told[0]
        assert kind == "stuck" and (alarm.platform, alarm.destination) == ("telegram", "-100")
        assert alarm.row_id in (first, first + 1) and alarm.error == "Bad Gateway (502)"
        assert any("outbox ALARM" in r.getMessage() for r in caplog.records)
        assert alarms("raised") == raised + 1
        calls = len(sender.calls)
        await wait_for(lambda: len(sender.calls) > calls + 4)
        assert [k for k, *_ in listener.told] == ["stuck"]  # once, however often it fails

        sender.down = False
        await wait_for(lambda: len(sender.delivered) == 2)
        await wait_for(lambda: len(listener.told) == 2)
    finally:
        await worker.stop()
    assert listener.told[1][0] == "recovered" and listener.told[1][1] == alarm
    assert gauge() == before and alarms("recovered") == recovered + 1
    assert any("recovered" in r.getMessage() for r in caplog.records)


async def test_a_stuck_row_that_fails_for_good_is_not_called_recovered(
    factory: Sessions,
) -> None:
    clock, listener, sender = Clock(), Listener(), RecordingSender()
    clock.offset = 0.0
    sender.fail_next(TransientError("502"), TransientError("502"), PermanentError("gone"))
    await put(factory, "a", 41)
    worker = make_worker(factory, sender, clock, listener)
    worker.alarms.after_seconds = 0.001
    await worker.start()
    try:
        await wait_for(lambda: len(sender.calls) == 3)
        await wait_for(lambda: worker.alarms.alarmed_rows == 0)
    finally:
        await worker.stop()
    assert [k for k, *_ in listener.told] == ["stuck"]
