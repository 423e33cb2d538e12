"""The process's runtime: one engine while open, transactions that wake its one worker."""

from __future__ import annotations

import pytest

from bridge.outbox import enqueue
from bridge.runtime import Runtime
from storage import outbox as store
from storage.migrate import upgrade_async
from tests.bridge.outbox.helpers import RecordingSender, wait_for


async def test_a_committed_transaction_wakes_the_worker_which_sends_the_row(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    await upgrade_async(url)
    runtime = Runtime(url, time_scale=1000.0)
    sender = RecordingSender()
    runtime.senders["telegram"] = sender
    with pytest.raises(RuntimeError, match="not open"):
        runtime.session()
    await runtime.open()
    try:
        worker = await runtime.start_worker(poll_interval=30.0)  # only a wake finds the row
        assert worker.handlers is runtime.handlers and worker.policy is runtime.policy
        with pytest.raises(RuntimeError, match="already running"):
            await runtime.start_worker()
        async with runtime.transaction() as session:
            await enqueue(
                session, platform="telegram", destination="1", lane="a", kind="call", payload={}
            )
        await wait_for(lambda: len(sender.delivered) == 1, within=5)
        with pytest.raises(RuntimeError, match="stop the outbox worker"):
            await runtime.close()
        await runtime.stop_worker()
        async with runtime.session() as session:
            assert await store.count_by_state(session) == {"done": 1}
    finally:
        await runtime.stop_worker()
        await runtime.close()
    assert runtime.engine is None
