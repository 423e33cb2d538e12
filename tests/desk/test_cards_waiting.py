"""Which groups keep the pacing's reserve for Accept: those with a card waiting (a new
conversation), read from the real database (both backends); unknown means every group."""

from __future__ import annotations

import pytest

from app.config import parse_config
from botapi.pacing import TelegramPacing, buckets
from bridge.outbox.pacing import BucketState, reserve
from bridge.outbox.policy import PacingPolicy, PlatformPacing
from desk.cards_waiting import CardsWaiting
from storage.conversations import claim_conversation, find_or_open_conversation
from storage.customers import upsert_customer

SUPPORT, SALES = -1001000000001, -1001000000002
CONFIG = {
    "telegram": {"token": "123456:real-token"},
    "groups": {"support": {"chat_id": SUPPORT}, "sales": {"chat_id": SALES}},
    "channels": {"telegram": {"group": "support"}},
}


def cards_waiting(sessions) -> CardsWaiting:
    waiting = CardsWaiting(parse_config(CONFIG, source="cfg.yaml", env={}))
    waiting.sessions = sessions
    return waiting


async def new_conversation(sessions, user: str, group: str) -> int:
    async with sessions() as session, session.begin():
        customer = await upsert_customer(session, "telegram", user, user, name=user)
        conversation, _ = await find_or_open_conversation(session, customer, group)
        assert conversation.id is not None
        return conversation.id


async def test_only_groups_with_a_new_conversation_keep_the_reserve(sessions) -> None:
    waiting = cards_waiting(sessions)
    # Not read yet: every group keeps it.
    assert waiting(str(SUPPORT)) and waiting(str(SALES))

    await waiting.refresh()
    assert not waiting(str(SUPPORT)) and not waiting(str(SALES))

    number = await new_conversation(sessions, "42", "support")
    await waiting.refresh()
    assert waiting(str(SUPPORT)) and not waiting(str(SALES))

    async with sessions() as session, session.begin():
        assert await claim_conversation(session, number, 7, "Anna")
    await waiting.refresh()
    assert not waiting(str(SUPPORT))


async def test_a_database_it_cannot_read_keeps_the_reserve_everywhere(sessions) -> None:
    waiting = cards_waiting(sessions)
    await waiting.refresh()
    assert not waiting(str(SUPPORT))

    def broken() -> object:
        raise OSError("database is gone")

    waiting.sessions = broken  # type: ignore[assignment]
    await waiting.refresh()
    assert waiting(str(SUPPORT))
    assert waiting.state().state == "stopped"  # never started here; refresh alone
    await waiting.start()
    try:
        assert waiting.state().state == "degraded"
    finally:
        await waiting.stop()


@pytest.mark.parametrize(("cards", "ordinary"), [(True, 19), (False, 20)])
def test_a_group_without_cards_gives_ordinary_posts_its_whole_window(cards, ordinary) -> None:
    policy = PacingPolicy(
        platforms={
            "telegram": PlatformPacing(buckets(TelegramPacing(), cards_waiting=lambda _: cards))
        }
    )
    window, bot = policy.buckets_for("telegram", str(SUPPORT))
    states = {window.key: BucketState(), bot.key: BucketState()}
    slots = [reserve(states, [window, bot], now=0.0) for _ in range(3 * ordinary)]
    assert sum(1 for slot in slots if slot < window.period) == ordinary
    for i, start in enumerate(slots):
        assert sum(1 for s in slots[i:] if s < start + window.period) <= ordinary
