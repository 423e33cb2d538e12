"""Fixtures of the abuse suite: the session's ledger, and the whole service with every fake.

`demo` is the real service `talker-bridge run` builds (app.wiring via app.demo.DemoRunner):
all five channels against the fake platforms, over real HTTP, on SQLite in a temporary folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from app.demo import DemoRunner
from tests.adapters.site.conftest import bridge, client  # noqa: F401 (the widget's fixtures)
from tests.security.abuse import LEDGER as _LEDGER
from tests.security.abuse import Ledger


@pytest.fixture(scope="session")
def ledger() -> Iterator[Ledger]:
    yield _LEDGER


@pytest.fixture
def demo_changes() -> dict[str, Any]:
    """Config changes for `demo` (override in a test module)."""
    return {}


@pytest.fixture
async def demo(demo_changes: dict[str, Any]) -> AsyncIterator[DemoRunner]:
    async with DemoRunner(port=0, time_scale=10, changes=demo_changes) as runner:
        yield runner


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _LEDGER.attacks:
        terminalreporter.write_sep("=", "abuse suite (tests/security)")
        terminalreporter.write_line(_LEDGER.table())
