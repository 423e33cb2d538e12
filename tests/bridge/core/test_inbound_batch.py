"""A batch of customers' messages in one transaction stores what event by event would store.

The same script of events runs for two families of customers in one database: the "one"
family event by event (`handle_inbound`, a transaction each), the "batch" family through
`handle_inbound_batch` in a single transaction. Every kind of event the quick path must hand
to the one-by-one path is in the batch. SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from core_fakes import FakeDesk
from sqlalchemy import event as sa_event
from sqlmodel import select

from bridge.core import commands
from bridge.core.claims import accept
from bridge.core.inbound import handle_inbound
from bridge.core.inbound_batch import handle_inbound_batch
from bridge.events import CustomerProfile, Inbound
from storage.conversations import get_conversation
from storage.models import Conversation, Customer, Message

USERS = {"known": "1", "accepted": "2", "fresh": "3", "renamed": "4", "blocked": "5"}


def profile(name: str) -> CustomerProfile:
    return CustomerProfile(first_name=name, language="en")


def said(family: str, who: str, key: str, body: str, **kw: Any) -> Inbound:
    user = f"{family}-{USERS[who]}"
    return Inbound(
        channel="telegram",
        chat=user,
        user=user,
        external_id=f"{family}-{key}",
        text=body,
        profile=kw.pop("profile", profile(who.title())),
        **kw,
    )


async def prepare(sessions: Any, desk: FakeDesk, family: str) -> None:
    """Before the batch: four customers with open conversations, one accepted, one blocked."""
    for who in ("known", "accepted", "renamed", "blocked"):
        async with sessions() as session, session.begin():
            result = await handle_inbound(
                session, said(family, who, f"{who}-0", "hello"), group="support", desk=desk
            )
            conversation = await get_conversation(session, result.conversation_id)
            assert conversation is not None
            if who == "accepted":
                await accept(session, conversation.id, 42, "Bob", desk=desk)
            if who == "blocked":
                await commands.set_blocked(session, conversation, True, language="en")


def script(family: str) -> list[Inbound]:
    return [
        said(family, "known", "k1", "first"),
        said(family, "accepted", "a1", "to Bob"),
        said(family, "fresh", "f1", "I am new"),
        said(family, "known", "k2", "second"),
        said(family, "known", "k1", "first again"),  # the same id as k1: a duplicate
        said(family, "accepted", "accepted-0", "hello"),  # stored before the batch
        said(family, "renamed", "r1", "new name", profile=profile("Renata")),
        said(family, "blocked", "b1", "let me in"),
        said(family, "fresh", "f2", "still new"),
        said(family, "accepted", "a1-edit", "to Bob, edited", edit_of=f"{family}-a1"),
        said(family, "accepted", "a2", "and more"),
    ]


async def world(sessions: Any, family: str) -> dict[str, Any]:
    """What each customer of `family` looks like in the database."""
    seen: dict[str, Any] = {}
    async with sessions() as session:
        for who, number in USERS.items():
            customer = (
                await session.exec(
                    select(Customer).where(Customer.external_id == f"{family}-{number}")
                )
            ).first()
            if customer is None:
                continue
            conversation = (
                await session.exec(
                    select(Conversation).where(Conversation.customer_id == customer.id)
                )
            ).one()
            messages = (
                await session.exec(
                    select(Message)
                    .where(Message.conversation_id == conversation.id)
                    .order_by(Message.id)
                )
            ).all()
            seen[who] = {
                "name": customer.name,
                "guest": customer.guest_number is not None,
                "blocked": customer.blocked,
                "wrote": customer.last_inbound_at is not None,
                "state": conversation.state,
                "counted": conversation.last_customer_message_at is not None,
                "messages": [(m.text, m.author, m.direction) for m in messages],
            }
    return seen


async def test_a_batch_stores_exactly_what_one_by_one_stores(sessions: Any) -> None:
    one_desk, batch_desk = FakeDesk(), FakeDesk()
    await prepare(sessions, one_desk, "one")
    await prepare(sessions, batch_desk, "batch")
    one_results = []
    for event in script("one"):
        async with sessions() as session, session.begin():
            one_results.append(
                await handle_inbound(session, event, group="support", desk=one_desk)
            )
    batch_desk.calls.clear()
    async with sessions() as session, session.begin():
        batch_results = await handle_inbound_batch(
            session, script("batch"), group="support", desk=batch_desk
        )

    assert [r.status for r in batch_results] == [r.status for r in one_results]
    assert [r.status for r in batch_results] == [
        "posted",
        "posted",
        "posted",
        "posted",
        "duplicate",
        "duplicate",
        "posted",
        "blocked",
        "posted",
        "edited",
        "posted",
    ]
    assert await world(sessions, "batch") == await world(sessions, "one")
    batch_world = await world(sessions, "batch")
    assert [text for text, _, _ in batch_world["known"]["messages"]] == [
        "hello",
        "first",
        "second",
    ]
    assert batch_world["renamed"]["name"] == "Renata"
    assert batch_world["renamed"]["messages"][-1] == ("new name", "Renata", "in")
    assert batch_world["blocked"]["messages"][-1][0] == "let me in"


async def test_a_batch_tells_the_desk_what_operators_must_see(sessions: Any) -> None:
    desk = FakeDesk()
    await prepare(sessions, desk, "batch")
    desk.calls.clear()
    async with sessions() as session, session.begin():
        results = await handle_inbound_batch(session, script("batch"), group="support", desk=desk)
    known = results[0].conversation_id
    fresh = results[2].conversation_id
    renamed = results[6].conversation_id
    # Accepted: each message relayed and the edit relayed as an edit, in the customer's order.
    relayed = [call for call in desk.calls if call[0] in ("relay_inbound", "relay_edit")]
    assert relayed == [
        ("relay_inbound", "to Bob"),
        ("relay_edit", "to Bob, edited"),
        ("relay_inbound", "and more"),
    ]
    # New: the known customer's card refreshed once for its two messages; the new customer
    # gets a card, then its second message refreshes it; the renamed one's card is refreshed.
    cards = [call for call in desk.calls if call[0] in ("post_card", "update_card")]
    assert cards.count(("update_card", (known, "new"))) == 1
    assert ("post_card", fresh) in cards
    assert cards.index(("post_card", fresh)) < cards.index(("update_card", (fresh, "new")))
    assert ("update_card", (renamed, "new")) in cards
    # The blocked customer: nothing shown.
    assert all(call[1] != "let me in" for call in desk.calls)


async def test_an_empty_batch_and_a_batch_of_repeats_change_nothing(sessions: Any) -> None:
    desk = FakeDesk()
    await prepare(sessions, desk, "batch")
    before = await world(sessions, "batch")
    desk.calls.clear()
    async with sessions() as session, session.begin():
        assert await handle_inbound_batch(session, [], group="support", desk=desk) == []
        repeats = [said("batch", "known", "known-0", "hello")] * 3
        results = await handle_inbound_batch(session, repeats, group="support", desk=desk)
    assert [r.status for r in results] == ["duplicate"] * 3
    assert desk.calls == []
    assert await world(sessions, "batch") == before


async def test_known_customers_messages_take_a_few_statements_for_the_whole_batch(
    sessions: Any,
) -> None:
    desk = FakeDesk()
    await prepare(sessions, desk, "batch")
    desk.calls.clear()
    events = [
        said("batch", who, f"{who}-{i}x", f"{who} {i}")
        for i in range(10)
        for who in ("known", "accepted")
    ]
    statements: list[str] = []
    engine = sessions.kw["bind"].sync_engine

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split()[0])

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        async with sessions() as session, session.begin():
            results = await handle_inbound_batch(session, events, group="support", desk=desk)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert [r.status for r in results] == ["posted"] * 20
    # BEGIN, customers, conversations, one INSERT of 20 messages, two UPDATEs: not 20 x 8.
    assert len([s for s in statements if s != "BEGIN"]) <= 5, statements
    assert [call for call in desk.calls if call[0] == "relay_inbound"] == [
        ("relay_inbound", f"accepted {i}") for i in range(10)
    ]
    assert desk.names().count("update_card") == 1
    ids = [r.message_id for r in results]
    assert ids == sorted(ids)
