"""Dead letters: one policy for an update that fails, shared by polling and every webhook.

A failure is either *transient* (the database is unreachable or dropped the connection, a
timeout, a platform's 5xx: the same work may succeed later) or *deterministic* (a handler's
bug, a payload the code cannot handle: it fails the same way every time). Transient failures
are retried — by polling for as long as it takes, with backoff; by a webhook through the
platform's own redelivery (the answer is 5xx). A deterministic failure is retried a few times,
then the update is kept as a dead letter (its raw JSON and the error, storage/dead_letters.py)
and acknowledged, so the platform stops redelivering it and updates behind it flow again.

    letters = DeadLetters(runtime.transaction)
    verdict = await letters.in_request("vk", event_id, raw, lambda: handle(event))
    # HANDLED / KEPT: answer the platform 200;  RETRY: answer 5xx (nothing was stored)

`talker-bridge dead-letters replay` feeds a dead letter again through the replayer its source
registered here (`register`), the same intake that failed it.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from bridge.core.group_commit import IngestStopped
from bridge.errors import RetryAfter, TransientError
from bridge.web.metrics import INTAKE_ALARM, INTAKE_WAITING
from storage.dead_letters import add_dead_letter
from storage.faults import database_unavailable

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

#: Tries of an update that fails deterministically before it becomes a dead letter.
DETERMINISTIC_TRIES = 3
#: The first wait after a transient failure, and the longest (seconds; doubled per failure).
BACKOFF_FIRST = 0.2
BACKOFF_MAX = 30.0
#: A polled update that has waited this long for the database is logged at ERROR, once.
ALARM_AFTER = 60.0

Work = Callable[[], Awaitable[object]]
#: Feeds a dead letter's payload again; returns once its effects are stored, raises otherwise.
Replayer = Callable[[str], Awaitable[None]]
Transaction = Callable[[], AbstractAsyncContextManager["AsyncSession"]]


class Verdict(enum.Enum):
    """What became of an update handled in a request."""

    HANDLED = "handled"  # stored: acknowledge it
    KEPT = "kept"  # failed for good and kept as a dead letter: acknowledge it
    RETRY = "retry"  # a transient failure, nothing stored: answer 5xx, the platform retries


def is_transient(error: BaseException, extra: tuple[type[BaseException], ...] = ()) -> bool:
    """Whether `error` may pass by itself (retry) rather than fail the same way again.

    `extra`: an edge's own transient types (aiogram's network errors for the bot's updates).
    """
    if isinstance(error, (TransientError, RetryAfter, IngestStopped, OSError, TimeoutError)):
        return True
    if extra and isinstance(error, extra):
        return True
    return database_unavailable(error)


def backoff(failures: int, first: float = BACKOFF_FIRST, cap: float = BACKOFF_MAX) -> float:
    """The wait before the next try after `failures` transient failures in a row."""
    return min(cap, first * 2 ** max(0, failures - 1))


def describe(error: BaseException) -> str:
    """The error as a dead letter keeps it: its type and message first, then the traceback."""
    head = f"{type(error).__name__}: {error}".strip()
    trace = "".join(traceback.format_exception(error)).strip()
    return f"{head}\n{trace}"


class DeadLetters:
    """The service's dead-letter policy and the replayers of each source (one per runtime)."""

    def __init__(
        self,
        transaction: Transaction,
        *,
        tries: int = DETERMINISTIC_TRIES,
        backoff_first: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_MAX,
        alarm_after: float = ALARM_AFTER,
    ) -> None:
        self.transaction = transaction
        self.alarm_after = alarm_after
        self.tries = tries
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.replayers: dict[str, Replayer] = {}
        #: Dead letters this process kept, by source (the table has every process's).
        self.kept: dict[str, int] = {}

    def register(self, source: str, replayer: Replayer) -> None:
        """`replayer` feeds `source`'s dead letters again (`talker-bridge dead-letters replay`)."""
        self.replayers[source] = replayer

    async def keep(self, source: str, key: str, payload: str, error: BaseException) -> int:
        """Store a dead letter now (one transaction); returns its id; raises what storing did."""
        async with self.transaction() as session:
            row = await add_dead_letter(session, source, key, payload, describe(error))
            letter_id = int(row.id or 0)
        self.kept[source] = self.kept.get(source, 0) + 1
        log.error(
            "%s update %s failed %d times; kept as dead letter %d (replay it with "
            "`talker-bridge dead-letters replay`): %s",
            source,
            key,
            self.tries,
            letter_id,
            error,
        )
        return letter_id

    async def in_request(
        self,
        source: str,
        key: str,
        payload: str,
        work: Work,
        *,
        extra_transient: tuple[type[BaseException], ...] = (),
        refused: tuple[type[BaseException], ...] = (),
    ) -> Verdict:
        """Run a webhook's `work`: a deterministic failure is retried a few times in the
        request and then kept (KEPT); a transient one is left to the platform (RETRY).
        `refused` errors (a malformed payload the edge answers 400) are raised as they are."""
        for attempt in range(1, self.tries + 1):
            try:
                await work()
                return Verdict.HANDLED
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if refused and isinstance(exc, refused):
                    raise
                if is_transient(exc, extra_transient):
                    log.warning(
                        "%s update %s not stored (%s); the platform will send it again",
                        source,
                        key,
                        exc,
                    )
                    return Verdict.RETRY
                if attempt < self.tries:
                    log.warning("%s update %s failed; retrying", source, key, exc_info=True)
                    await asyncio.sleep(self.backoff_first * attempt)
                    continue
                try:
                    await self.keep(source, key, payload, exc)
                except Exception:
                    log.exception("%s update %s: the dead letter could not be stored", source, key)
                    return Verdict.RETRY
                return Verdict.KEPT
        return Verdict.RETRY  # pragma: no cover - the loop always returns

    async def until_settled(
        self,
        source: str,
        key: str,
        payload: str,
        work: Work,
        *,
        extra_transient: tuple[type[BaseException], ...] = (),
        on_transient: Callable[[BaseException | None], None] = lambda _: None,
    ) -> bool:
        """Run a polled update's `work` until it is stored (True) or kept as a dead letter
        (False). Transient failures are retried for as long as it takes with backoff;
        `on_transient(error)` is told each one, and `on_transient(None)` once it is over."""
        failures = 0  # deterministic ones
        transient = 0
        waiting_since = 0.0
        alarmed = False
        loop = asyncio.get_running_loop()
        while True:
            try:
                await work()
                if transient:
                    self._waited(source, None)
                    on_transient(None)
                return True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc, extra_transient):
                    transient += 1
                    on_transient(exc)
                    waiting_since = waiting_since or loop.time()
                    self._waited(source, loop.time() - waiting_since)
                    if not alarmed and loop.time() - waiting_since >= self.alarm_after:
                        alarmed = True
                        INTAKE_ALARM.labels(source).set(1)
                        log.error(
                            "intake ALARM: %s update %s has waited %.0f s for the database "
                            "(%s); still retrying, nothing is skipped",
                            source,
                            key,
                            loop.time() - waiting_since,
                            exc,
                        )
                    delay = backoff(transient, self.backoff_first, self.backoff_max)
                    log.warning(
                        "%s update %s not stored (%s); retrying in %.1f s",
                        source,
                        key,
                        exc,
                        delay,
                    )
                    await asyncio.sleep(delay)
                    continue
                failures += 1
                if failures < self.tries:
                    log.warning("%s update %s failed; retrying", source, key, exc_info=True)
                    await asyncio.sleep(self.backoff_first * failures)
                    continue
                await self._keep_until_stored(source, key, payload, exc, on_transient)
                if transient:
                    self._waited(source, None)
                    on_transient(None)
                return False

    @staticmethod
    def _waited(source: str, seconds: float | None) -> None:
        """The intake gauges: how long `source`'s update has waited (None: it waits no more)."""
        INTAKE_WAITING.labels(source).set(seconds or 0.0)
        if seconds is None:
            INTAKE_ALARM.labels(source).set(0)

    async def _keep_until_stored(
        self,
        source: str,
        key: str,
        payload: str,
        error: BaseException,
        on_transient: Callable[[BaseException | None], None],
    ) -> None:
        failures = 0
        while True:
            try:
                await self.keep(source, key, payload, error)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away meanwhile: keep trying
                if not is_transient(exc):
                    log.exception("the dead letter of %s %s cannot be stored", source, key)
                    return
                failures += 1
                on_transient(exc)
                delay = backoff(failures, self.backoff_first, self.backoff_max)
                log.warning("dead letter of %s %s not stored (%s); retrying", source, key, exc)
                await asyncio.sleep(delay)
