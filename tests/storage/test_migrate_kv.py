"""Revision 0003 moves the old key-value rows into their tables, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text

from storage.copies import CustomerCopy, customer_copies
from storage.db import create_engine, session_factory
from storage.feed import lock_feed
from storage.migrate import downgrade_async, upgrade_async
from storage.operators import operator_groups
from storage.sent import message_for_sent
from storage.state import kv_get

DIGEST = {
    "next": 3,
    "digests": [
        {
            "n": 2,
            "ids": [41, 42],
            "message_id": 977,
            "posting": False,
            "lines": {"41": "#41 <b>Ann</b>", "42": "#42 <b>Bob</b> — closed"},
            "labels": {"41": "Accept #41 Ann"},
            "version": 4,
        }
    ],
}
#: An old digest written before lines, labels and versions existed.
OLD_DIGEST = {"next": 2, "digests": [{"n": 1, "ids": [5], "message_id": None, "posting": True}]}


async def _old_style_rows(url: str) -> int:
    """A database at revision 0002 holding one kv row of each old kind; our message's id."""
    await upgrade_async(url, "0002")
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            # Plain SQL: the models know columns that later revisions add.
            connection = await session.connection()
            stamp = datetime(2026, 12, 1, 11, 0)
            await connection.execute(
                text(
                    "INSERT INTO customers (channel, external_id, chat, name, blocked, "
                    "reachable, created_at, updated_at) "
                    "VALUES ('vk', '7', '7', 'Ann', false, true, :t, :t)"
                ),
                {"t": stamp},
            )
            await connection.execute(
                text(
                    'INSERT INTO conversations (customer_id, "group", state, opened_at) '
                    "SELECT id, 'support', 'new', :t FROM customers WHERE external_id = '7'"
                ),
                {"t": stamp},
            )
            await connection.execute(
                text(
                    "INSERT INTO messages (conversation_id, direction, author, text, channel, "
                    "external_id, created_at, delivery_state) "
                    "SELECT id, 'in', 'Ann', 'hi', 'vk', 'm1', :t, 'pending' FROM conversations"
                ),
                {"t": stamp},
            )
            message_id = (
                await connection.execute(text("SELECT id FROM messages WHERE external_id = 'm1'"))
            ).scalar_one()
            when = datetime(2026, 12, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)
            rows = {
                "sent:vk:501": str(message_id),
                "sent:viber:abc:def": str(message_id),
                "sent:vk:502": "999999",  # its message is gone: dropped
                "sent:vk:503": "not a number",  # not what the code wrote: stays
                f"copies:{message_id}": json.dumps(
                    [
                        {"chat": "7", "message_id": "10", "form": "text"},
                        {"chat": "7", "message_id": "11", "form": "caption"},
                    ]
                ),
                "operator:groups:100": json.dumps(["support", "sales"]),
                "feed:digest:support": json.dumps(DIGEST),
                "feed:digest:sales": json.dumps(OLD_DIGEST),
                "feed:digest:empty": "",
                "telegram:offset": "12345",  # a cursor: stays in kv
            }
            for key, value in rows.items():
                await (await session.connection()).execute(
                    text("INSERT INTO kv (key, value, updated_at) VALUES (:k, :v, :t)"),
                    {"k": key, "v": value, "t": when},
                )
            await session.commit()
    finally:
        await engine.dispose()
    return message_id


async def test_old_key_value_rows_move_into_their_tables(db_url: str) -> None:
    message_id = await _old_style_rows(db_url)
    await upgrade_async(db_url)

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            assert await message_for_sent(session, "vk", "501") == message_id
            assert await message_for_sent(session, "vk:club", "501") == message_id
            assert await message_for_sent(session, "viber", "abc:def") == message_id
            assert await message_for_sent(session, "vk", "502") is None
            assert await customer_copies(session, message_id) == [
                CustomerCopy(chat="7", message_id="10", form="text"),
                CustomerCopy(chat="7", message_id="11", form="caption"),
            ]
            assert await operator_groups(session, 100) == {"support", "sales"}

            support = await lock_feed(session, "support")
            assert support.next == 3
            [digest] = support.digests
            assert (digest.n, digest.ids, digest.message_id, digest.posting, digest.version) == (
                2,
                [41, 42],
                977,
                False,
                4,
            )
            assert digest.lines == {"41": "#41 <b>Ann</b>", "42": "#42 <b>Bob</b> — closed"}
            assert digest.labels == {"41": "Accept #41 Ann"}
            sales = await lock_feed(session, "sales")
            assert sales.next == 2
            assert [(d.n, d.ids, d.posting, d.lines) for d in sales.digests] == [
                (1, [5], True, {})
            ]
            assert (await lock_feed(session, "empty")).digests == []

            left = await (await session.connection()).execute(
                text("SELECT key FROM kv ORDER BY key")
            )
            assert [k for (k,) in left] == ["sent:vk:503", "telegram:offset"]
            await session.rollback()
    finally:
        await engine.dispose()


async def test_the_downgrade_writes_the_rows_back(db_url: str) -> None:
    message_id = await _old_style_rows(db_url)
    await upgrade_async(db_url)
    await downgrade_async(db_url, "0002")

    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            assert await kv_get(session, "sent:vk:501") == str(message_id)
            copies = json.loads(await kv_get(session, f"copies:{message_id}") or "[]")
            assert [c["message_id"] for c in copies] == ["10", "11"]
            assert json.loads(await kv_get(session, "operator:groups:100") or "") == [
                "sales",
                "support",
            ]
            assert json.loads(await kv_get(session, "feed:digest:support") or "") == DIGEST
    finally:
        await engine.dispose()
