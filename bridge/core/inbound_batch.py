"""Many customers' messages in one transaction, with set-based statements (the group commit's
batch handler, bridge/core/group_commit.py).

The common case — a known customer, unchanged, not blocked, writing into an open conversation —
is stored for the whole batch at once: one SELECT of the customers, one locked SELECT of their
open conversations, one INSERT of the messages, two UPDATEs of the times. Everything else goes
through `handle_inbound` one event at a time in the same transaction, each in a SAVEPOINT so a
concurrent duplicate rolls back only its own event: an edit, a new customer, a changed name or
profile, a blocked customer, a customer without an open conversation. The choice is made per
customer, so one customer's messages are stored in order on one path.

What the desk is told is the same as event by event: a message into an accepted conversation
is relayed; a new conversation's card is refreshed once for the batch, after all its messages
(queued edits of a card collapse to the last anyway). Any other error fails the whole batch;
the group commit then stores each event alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bridge.core.inbound import DuplicateInbound, InboundResult, handle_inbound
from storage.conversations import lock_open_conversations
from storage.customers import find_customers, upsert_would_change
from storage.messages import InboundRow, store_inbound_messages
from storage.models import ConversationState

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import Desk
    from bridge.core.offline import HoursNow
    from bridge.core.ratings import Ratings
    from bridge.events import Inbound
    from storage.models import Conversation, Customer


async def handle_inbound_batch(
    session: AsyncSession,
    events: Sequence[Inbound],
    *,
    group: str,
    desk: Desk,
    hours: HoursNow | None = None,
    ratings: Ratings | None = None,
) -> list[InboundResult]:
    """`handle_inbound` for each event, in one transaction; see the module doc.

    `hours`: the group's working hours, decided once for the batch (bridge/core/offline.py);
    outside them the quick path's customers owed the offline text get it in one UPDATE."""
    results: list[InboundResult | None] = [None] * len(events)
    customers, conversations = await _known(session, events)
    one_by_one = {
        (event.channel, event.user)
        for event in events
        if not _plain(event, customers, conversations)
    }
    quick = [i for i, e in enumerate(events) if (e.channel, e.user) not in one_by_one]
    slow = [i for i, e in enumerate(events) if (e.channel, e.user) in one_by_one]

    rows = []
    for i in quick:
        event = events[i]
        customer = customers[(event.channel, event.user)]
        rows.append(
            InboundRow(
                conversation=conversations[customer.id],  # type: ignore[index]
                customer=customer,
                channel=event.channel,
                external_id=event.external_id,
                author=customer.name,
                text=event.text,
                attachments=event.attachments,
                created_at=event.sent_at,
            )
        )
    stored = await store_inbound_messages(session, rows)
    cards: dict[int, tuple[Conversation, Customer]] = {}
    wrote: dict[int, tuple[Conversation, Customer]] = {}
    for i, row, message in zip(quick, rows, stored, strict=True):
        if message is None:
            results[i] = InboundResult("duplicate")
            continue
        conversation = row.conversation
        customer = customers[(events[i].channel, events[i].user)]
        assert conversation.id is not None
        wrote.setdefault(conversation.id, (conversation, customer))
        if conversation.state == ConversationState.NEW:
            cards.setdefault(conversation.id, (conversation, customer))
        else:
            await desk.relay_inbound(session, conversation, customer, message)
        results[i] = InboundResult(
            "posted",
            conversation.id,
            message.id,
            False,
            unreachable=not customer.reachable,
            guest=not customer.name,
        )
    for conversation, customer in cards.values():
        await desk.update_card(session, conversation, customer)
    if hours is not None and hours.closed:
        await hours.answer(session, list(wrote.values()))

    for i in slow:
        try:
            async with session.begin_nested():
                results[i] = await handle_inbound(
                    session, events[i], group=group, desk=desk, hours=hours, ratings=ratings
                )
        except DuplicateInbound:
            results[i] = InboundResult("duplicate")
    done = [result for result in results if result is not None]
    assert len(done) == len(events), "every event has a result"
    return done


async def _known(
    session: AsyncSession, events: Sequence[Inbound]
) -> tuple[dict[tuple[str, str], Customer], dict[int, Conversation]]:
    """The batch's known customers by (channel, user) and their open conversations."""
    users: dict[str, set[str]] = defaultdict(set)
    for event in events:
        if event.edit_of is None:
            users[event.channel].add(event.user)
    customers: dict[tuple[str, str], Customer] = {}
    for channel, ids in users.items():
        for user, customer in (await find_customers(session, channel, ids)).items():
            customers[(channel, user)] = customer
    usable = [c.id for c in customers.values() if c.id is not None and not c.blocked]
    return customers, await lock_open_conversations(session, usable)


def _plain(
    event: Inbound,
    customers: dict[tuple[str, str], Customer],
    conversations: dict[int, Conversation],
) -> bool:
    """Whether the quick path stores `event` exactly as `handle_inbound` would."""
    if event.edit_of is not None or event.action is not None:
        return False  # an edit, or a press of a button (bridge/core/ratings.py)
    customer = customers.get((event.channel, event.user))
    if customer is None or customer.blocked or customer.id not in conversations:
        return False
    profile = event.profile
    name = profile.full_name if profile else None
    return not upsert_would_change(customer, event.chat, name, profile)
