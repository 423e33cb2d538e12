"""Outbox test fixtures.

`pg_server` (tests/conftest.py) probes PostgreSQL with `asyncio.run`, which fails when it is
first requested from inside a running loop (by the async `db_url` fixture); this sync autouse
fixture requests it first, outside any loop, for the tests that need PostgreSQL (and `pg_url`
for tests parametrized with `backend`, which fetch it with `getfixturevalue`).
"""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _probe_postgres_outside_the_loop(request: pytest.FixtureRequest) -> None:
    callspec = getattr(request.node, "callspec", None)
    wants_pg = "pg_url" in request.fixturenames or (
        callspec is not None and "postgresql" in callspec.params.values()
    )
    if wants_pg:
        request.getfixturevalue("pg_server")
    if callspec is not None and callspec.params.get("backend") == "postgresql":
        request.getfixturevalue("pg_url")  # async fixture: set up here, before the loop runs
