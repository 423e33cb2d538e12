"""A recording sink with a handler's bug for chosen payloads, or a database that is down; and
a real runtime (SQLite) whose dead letters the webhooks under test keep.

For the dead-letter tests of every webhook: a poison payload fails the same way every time
(a ValueError, as a bug would raise), a database outage raises SQLAlchemy's OperationalError
with a refused connection under it, as the engine does when PostgreSQL is restarting.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bridge.events import Inbound
from bridge.runtime import Runtime
from storage.migrate import upgrade_async
from storage.models import DeadLetter
from tests.adapters.recording_sink import RecordingSink


class FaultySink(RecordingSink):
    """Raises ValueError for a message whose text holds `poison` or for `broken_user`, and
    OperationalError for everything while `database_down`."""

    poison = "poison"
    broken_user = "666"
    database_down = False

    def _check(self, user: str, text: str | None = None) -> None:
        if self.database_down:
            raise OperationalError("INSERT ...", {}, ConnectionRefusedError(111, "refused"))
        if user == self.broken_user or (self.poison and self.poison in (text or "")):
            raise ValueError(f"a handler cannot take this payload of user {user}")

    async def inbound(self, event: Inbound) -> bool:
        self._check(event.user, event.text)
        return await super().inbound(event)

    async def reachability(
        self, channel: str, user: str, reachable: bool, reason: str | None = None
    ) -> None:
        self._check(user)
        await super().reachability(channel, user, reachable, reason)


@pytest.fixture
def sink() -> FaultySink:
    return FaultySink()


@pytest.fixture
async def runtime(sqlite_url: str) -> AsyncIterator[Runtime]:
    """The runtime whose database keeps the dead letters (and VK's event ids)."""
    await upgrade_async(sqlite_url)
    runtime = Runtime(sqlite_url)
    await runtime.open()
    yield runtime
    await runtime.close()


async def dead_letters(runtime: Runtime) -> list[DeadLetter]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(DeadLetter).order_by(DeadLetter.id))).all())
