"""Dashboard counters after a scripted sequence of inquiries, claims, replies and closes."""

from __future__ import annotations

from storage.conversations import claim_conversation, close_conversation, open_conversation
from storage.counters import badge, count_new, count_unanswered
from storage.customers import upsert_customer
from storage.messages import store_inbound_message, store_note, store_operator_reply


async def test_counters_follow_a_scripted_day(sessions) -> None:
    async with sessions() as session:
        conversations = {}
        for name in ("a", "b", "c", "d"):
            customer = await upsert_customer(session, "vk", name, name, name)
            group = "sales" if name == "d" else "support"
            conversation = await open_conversation(session, customer, group)
            await store_inbound_message(
                session, conversation, channel="vk", external_id=f"{name}1", author=name, text="?"
            )
            conversations[name] = conversation
        a, b, c, d = (conversations[name].id for name in "abcd")
        assert await count_new(session, "support") == 3
        assert await count_new(session, "sales") == 1
        assert await count_unanswered(session, "support") == 0

        # Kate claims a and b, Max claims c; nobody has replied yet.
        await claim_conversation(session, a, 7, "Kate")
        await claim_conversation(session, b, 7, "Kate")
        await claim_conversation(session, c, 8, "Max")
        assert await count_new(session, "support") == 0
        assert await count_unanswered(session, "support") == 3
        assert await count_unanswered(session, "support", operator_id=7) == 2
        assert await count_unanswered(session, "sales") == 0

        # Kate answers a; a note on b is not an answer.
        await store_operator_reply(session, a, channel="vk", author="Kate", text="hello")
        await store_note(session, b, channel="telegram", author="Kate", text="checking")
        assert await count_unanswered(session, "support", operator_id=7) == 1

        # The customer of a writes again: a is unanswered again. Max closes c.
        await store_inbound_message(
            session, conversations["a"], channel="vk", external_id="a2", author="a", text="and?"
        )
        await close_conversation(session, c)
        assert await count_unanswered(session, "support", operator_id=7) == 2
        assert await count_unanswered(session, "support", operator_id=8) == 0
        assert await count_unanswered(session, "support") == 2
        assert await count_new(session, "sales") == 1
        await session.commit()
    assert d


def test_badge_shows_an_exclamation_above_nine() -> None:
    assert [badge(n) for n in (0, 9, 10, 42)] == ["0", "9", "!", "!"]
