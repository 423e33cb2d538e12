"""Two services in one interpreter are independent: stopping one leaves the other whole.

Each has its own runtime (engine, worker, handler registry bound to its own desk); nothing
lives in module globals. The old `desk.completions.bind()` global made the second service's
stop unbind the first one's completion handlers: its cards were posted but never recorded.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from desk_harness import Desk, eventually, running_desk
from sqlmodel import select

from storage.models import Conversation, LinkKind, MessageLink


async def recorded_card(desk: Desk, card: Any, wait: float = 10.0) -> Conversation:
    """The conversation whose card is `card`, once the card-posted handler recorded it in the
    service's own database (the card's message id on the conversation and a card link)."""
    deadline = time.monotonic() + wait
    while True:
        async with desk.service.runtime.sessions() as session:
            conversation = (
                await session.exec(
                    select(Conversation).where(Conversation.card_message_id == card.message_id)
                )
            ).first()
            link = (
                await session.exec(
                    select(MessageLink).where(
                        MessageLink.group_message_id == card.message_id,
                        MessageLink.kind == LinkKind.CARD,
                    )
                )
            ).first()
        if conversation is not None and link is not None:
            assert link.conversation_id == conversation.id
            assert conversation.card_chat_id == desk.group_id
            return conversation
        if time.monotonic() > deadline:
            raise AssertionError(f"card {card.message_id} was not recorded in {desk.db}")
        await asyncio.sleep(0.05)


async def test_stopping_one_service_leaves_the_other_completing_its_deliveries(tmp_path) -> None:
    async with running_desk(f"sqlite:///{tmp_path / 'one.db'}") as one:
        async with running_desk(f"sqlite:///{tmp_path / 'two.db'}") as two:
            assert one.service.runtime is not two.service.runtime
            for desk in (one, two):
                desk.fake.user_says(desk.customer, "hello")
            for desk in (one, two):
                await recorded_card(desk, await eventually(desk.card, what="a card"))
        # The second service is stopped; the first one carries on with everything.
        assert two.service.runtime.engine is None
        zoe = one.fake.add_user("Zoe", "Client")
        one.fake.user_says(zoe, "a new question")
        card = await eventually(
            lambda: next(
                (m for m in one.fake.chat_view(one.group_id) if "Zoe" in (m.caption or "")), None
            ),
            what="Zoe's card in the first service's group",
        )
        conversation = await recorded_card(one, card)
        assert conversation.card_message_id == card.message_id
