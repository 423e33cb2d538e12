"""Shared test helpers for the outbox: a schema-ready database and a recording sender."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from botapi.pacing import MAX_TEXT, TelegramPacing, buckets
from bridge.core.cards import tg_length
from bridge.errors import BridgeError
from bridge.outbox.policy import PacingPolicy, PlatformPacing
from storage.db import create_engine, session_factory


async def open_db(url: str) -> tuple[Any, Any]:
    """An engine with every table created, and its session factory."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(SQLModel.metadata.create_all)
    return engine, session_factory(engine)


class RecordingSender:
    """A fake platform: records each call (time, ids, payload) and can fail the next calls."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.latency = latency
        self._failures: list[BridgeError] = []
        self._next_id = 1000
        self.arrived = asyncio.Event()

    def fail_next(self, *errors: BridgeError) -> None:
        self._failures.extend(errors)

    async def deliver(self, item: Any) -> dict[str, Any]:
        at = time.time()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._failures:
            error = self._failures.pop(0)
            self.calls.append({"at": at, "ids": item.merged_ids, "error": error})
            raise error
        self._next_id += 1
        self.calls.append(
            {"at": at, "ids": item.merged_ids, "payload": item.payload, "lane": item.lane}
        )
        self.arrived.set()
        return {"message_id": self._next_id}

    @property
    def delivered(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if "error" not in c]

    def delivered_ids(self) -> list[int]:
        return [i for c in self.delivered for i in c["ids"]]


async def wait_for(
    predicate: Callable[[], bool],
    within: float = 10.0,
    info: Callable[[], Any] | None = None,
) -> None:
    """Poll `predicate` until true; fail the test after `within` seconds (showing `info()`)."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            detail = f": {info()!r}" if info else ""
            raise AssertionError(f"condition not reached in {within}s{detail}")
        await asyncio.sleep(0.02)


def telegram_policy(time_scale: float = 1.0, **pacing: Any) -> PacingPolicy:
    """The policy of a worker that sends the bot's calls: Telegram's pacing registered, as the
    runtime does (`pacing`: `botapi.pacing.TelegramPacing` fields)."""
    return PacingPolicy(
        platforms={
            "telegram": PlatformPacing(buckets(TelegramPacing(**pacing)), MAX_TEXT, tg_length)
        },
        time_scale=time_scale,
    )
