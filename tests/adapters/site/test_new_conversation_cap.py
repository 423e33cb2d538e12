"""A cap on NEW conversations per widget (issue 14): a script minting visitors cannot fill the
group's Incoming feed and spend its posting budget; visitors already talking are never held.

Over real HTTP; the cap's clock is the test's, so "a few seconds later" takes no time.
"""

from __future__ import annotations

from sqlmodel import select

from adapters.site.limits import NEW_CONVERSATIONS, RateLimiter
from bridge.core.texts import text
from storage.models import Conversation, Customer
from tests.adapters.site.harness import SHOP_ORIGIN, WIDGET, Bridge, close_bridge, open_bridge
from tests.adapters.site.test_widget_api import history, new_token, say

CAP = NEW_CONVERSATIONS.burst


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def frozen_cap(bridge: Bridge) -> Clock:
    clock = Clock()
    (adapter,) = (a for a in bridge.site.adapters if a.widget_id == WIDGET)
    adapter.new_conversation_limit = RateLimiter(NEW_CONVERSATIONS, clock=clock)
    return clock


async def conversations(bridge: Bridge) -> int:
    async with bridge.sessions() as session:
        statement = select(Conversation).join(Customer).where(Customer.channel == f"site:{WIDGET}")
        return len((await session.exec(statement)).all())


async def test_the_eleventh_new_visitor_waits_and_existing_conversations_go_on(client, bridge):
    clock = frozen_cap(bridge)
    tokens = [await new_token(client) for _ in range(CAP + 1)]
    for number, token in enumerate(tokens[:CAP]):
        assert (await say(client, token, f"hello {number}", f"first-{number:04d}")).status == 200
    assert await conversations(bridge) == CAP

    late = tokens[CAP]
    refused = await say(client, late, "I am real too", "late-first-1")
    assert refused.status == 429
    assert refused.headers["Retry-After"] == str(round(60 / NEW_CONVERSATIONS.per_minute))
    assert refused.headers["Access-Control-Allow-Origin"] == SHOP_ORIGIN
    body = await refused.json()
    assert body["notice"] == body["error"] == text("en", "customer.widget_busy")
    assert await conversations(bridge) == CAP  # nothing stored for the refused message
    assert await history(client, late) == []
    assert len(bridge.sink.inbound_events) == CAP

    # A visitor who already has an open conversation is never held back by the cap.
    for number in range(3):
        answer = await say(client, tokens[0], f"more {number}", f"more-{number:04d}")
        assert answer.status == 200

    # Later the same message, sent again with the same id, opens its conversation once.
    clock.now += 60 / NEW_CONVERSATIONS.per_minute
    accepted = await say(client, late, "I am real too", "late-first-1")
    assert accepted.status == 200 and (await accepted.json())["duplicate"] is False
    assert [m["text"] for m in await history(client, late)] == ["I am real too"]
    assert await conversations(bridge) == CAP + 1


async def test_the_refusal_speaks_the_widget_pages_language_or_the_configs(
    tmp_path, aiohttp_client
):
    bridge = await open_bridge(tmp_path, [SHOP_ORIGIN], language="ru")
    try:
        client = await aiohttp_client(bridge.app())
        frozen_cap(bridge)
        for number in range(CAP):
            token = await new_token(client)
            assert (await say(client, token, "привет", f"first-{number:04d}")).status == 200
        token = await new_token(client)
        russian = await say(client, token, "здравствуйте", "late-ru-0001")
        assert (await russian.json())["notice"] == text("ru", "customer.widget_busy")
        english = await say(client, token, "hello", "late-en-0001", lang="en")
        assert (await english.json())["notice"] == text("en", "customer.widget_busy")
        assert await conversations(bridge) == CAP
    finally:
        await close_bridge(bridge)
