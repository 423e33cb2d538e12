"""Every PostgreSQL connection asks the server to notice a silent client and to end a
transaction left idle, so one frozen process cannot hold locks the others wait for."""

from __future__ import annotations

from sqlalchemy import text

from storage.db import create_engine


async def test_a_connection_has_keepalives_and_an_idle_transaction_timeout(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        async with engine.connect() as connection:
            shown = {
                name: (await connection.execute(text(f"SHOW {name}"))).scalar_one()
                for name in (
                    "idle_in_transaction_session_timeout",
                    "tcp_keepalives_idle",
                    "tcp_user_timeout",
                )
            }
    finally:
        await engine.dispose()
    assert shown == {
        "idle_in_transaction_session_timeout": "30s",
        "tcp_keepalives_idle": "2",
        "tcp_user_timeout": "5000",  # milliseconds
    }
