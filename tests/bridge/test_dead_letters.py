"""The shared dead-letter policy (bridge/dead_letters.py): which failures pass by themselves,
how polling and webhooks settle an update, and how a dead letter is kept.

Transient errors here are the real ones: a refused connection and a connection reset under
PostgreSQL (through the in-test TCP proxy), SQLite's errors; deterministic ones are a bug's
ValueError and a real constraint violation.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bridge.dead_letters import DeadLetters, Verdict, backoff, is_transient
from bridge.errors import TransientError
from bridge.runtime import Runtime
from storage.db import create_engine
from storage.migrate import upgrade_async
from storage.models import DeadLetter
from tests.support.tcp_proxy import TcpProxy, free_port

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    await upgrade_async(db_url)
    runtime = Runtime(db_url)
    await runtime.open()
    yield runtime
    await runtime.close()


async def caught(url: str, sql: str = "SELECT 1") -> BaseException:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    except Exception as exc:
        return exc
    finally:
        await engine.dispose()
    raise AssertionError("the statement did not fail")


@pytest.mark.postgres
async def test_a_refused_or_reset_postgres_connection_is_transient(pg_url: str) -> None:
    url = make_url(pg_url)
    refused = await caught(url.set(port=free_port()).render_as_string(hide_password=False))
    assert is_transient(refused), repr(refused)
    async with TcpProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        engine = create_engine(url.set(port=proxy.port).render_as_string(hide_password=False))
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                proxy.cut()  # a restart resets the connection under a running session
                with pytest.raises(Exception) as reset:
                    await connection.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
    assert is_transient(reset.value), repr(reset.value)


async def test_a_bug_or_a_constraint_violation_is_deterministic(db_url: str) -> None:
    await upgrade_async(db_url)
    duplicate = await caught(
        db_url,
        "INSERT INTO kv (key, value, updated_at) VALUES ('k', 'v', CURRENT_TIMESTAMP), "
        "('k', 'w', CURRENT_TIMESTAMP)",
    )
    assert not is_transient(duplicate), repr(duplicate)
    assert not is_transient(ValueError("a handler's bug"))
    assert is_transient(TransientError("502 from a platform"))
    assert [backoff(n) for n in (1, 2, 3)] == [0.2, 0.4, 0.8] and backoff(20) == 30.0


async def letters(runtime: Runtime) -> list[DeadLetter]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(DeadLetter).order_by(DeadLetter.id))).all())


async def test_a_webhook_keeps_a_poison_payload_once_and_leaves_a_transient_one_to_retry(
    runtime: Runtime,
) -> None:
    policy = DeadLetters(runtime.transaction, backoff_first=0.01)
    calls = 0

    async def bug() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("cannot handle it")

    assert await policy.in_request("vk", "ev1", '{"x": 1}', bug) is Verdict.KEPT
    assert calls == 3  # tried a few times in the request first
    # The platform redelivers it anyway: the open letter counts the failure, no second row.
    assert await policy.in_request("vk", "ev1", '{"x": 1}', bug) is Verdict.KEPT
    [letter] = await letters(runtime)
    assert (letter.source, letter.key, letter.attempts) == ("vk", "ev1", 2)
    assert letter.error.startswith("ValueError: cannot handle it\nTraceback")

    async def down() -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    assert await policy.in_request("vk", "ev2", "{}", down) is Verdict.RETRY
    assert len(await letters(runtime)) == 1


async def test_polling_waits_out_a_transient_failure_and_keeps_a_deterministic_one(
    runtime: Runtime,
) -> None:
    policy = DeadLetters(runtime.transaction, backoff_first=0.01)
    failures = [ConnectionResetError(104, "reset"), TimeoutError(), TransientError("503")]
    seen: list[BaseException | None] = []

    async def flaky() -> None:
        if failures:
            raise failures.pop(0)

    assert await policy.until_settled("telegram", "7", "{}", flaky, on_transient=seen.append)
    assert [type(e).__name__ for e in seen] == [
        "ConnectionResetError",
        "TimeoutError",
        "TransientError",
        "NoneType",  # told once it is over
    ]
    assert await letters(runtime) == []

    async def bug() -> None:
        raise KeyError("message")

    kept = await asyncio.wait_for(policy.until_settled("telegram", "8", '{"u": 8}', bug), 5)
    assert kept is False
    [letter] = await letters(runtime)
    assert (letter.source, letter.key, letter.payload) == ("telegram", "8", '{"u": 8}')


async def test_an_update_waiting_for_the_database_raises_the_intake_alarm_until_stored(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    from prometheus_client import REGISTRY

    def gauge(name: str) -> float | None:
        return REGISTRY.get_sample_value(name, {"source": "alarm-test"})

    policy = DeadLetters(
        runtime.transaction, backoff_first=0.01, backoff_max=0.02, alarm_after=0.1
    )
    loop = asyncio.get_running_loop()
    down_until = loop.time() + 0.3
    during: list[tuple[float | None, float | None]] = []

    async def store() -> None:
        if loop.time() < down_until:
            during.append(
                (
                    gauge("talker_bridge_intake_alarm"),
                    gauge("talker_bridge_intake_waiting_seconds"),
                )
            )
            raise ConnectionRefusedError(111, "Connect call failed")

    with caplog.at_level("ERROR", logger="bridge.dead_letters"):
        assert await policy.until_settled("alarm-test", "9", "{}", store)
    assert any("intake ALARM" in r.getMessage() for r in caplog.records)
    alarm, waited = during[-1]  # the last try while the database was down
    assert alarm == 1 and waited is not None and waited >= 0.1
    assert gauge("talker_bridge_intake_alarm") == 0  # stored: the alarm is over
    assert gauge("talker_bridge_intake_waiting_seconds") == 0
    assert await letters(runtime) == []
