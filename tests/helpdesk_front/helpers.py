"""What the helpdesk tests share: the clock of a running service's intake, and the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from app.service import Service
from bridge.core.sink import BridgeSink, LaterNames


def sink_of(service: Service) -> BridgeSink:
    """The service's one sink (every adapter reports to it)."""
    names = next(c for c in service.components if isinstance(c, LaterNames))
    return names.sink


def set_clock(service: Service, at: datetime) -> None:
    """The intake of `service` judges working hours as if it were `at`."""
    sink_of(service).clock = lambda: at


@asynccontextmanager
async def database(url: str) -> AsyncIterator[Any]:
    """A session on the service's database (read what the bridge stored)."""
    from storage.db import create_engine, session_factory

    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()
