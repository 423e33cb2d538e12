"""A script minting widget visitors to open conversation after conversation (issue 14): past
the widget's cap of new conversations, none is opened, so the group's Incoming feed and its
posting budget stay for real customers. Against the whole service (`demo`), over real HTTP.

The script comes from many addresses (a different X-Forwarded-For per visitor, believed from the
local proxy), so the per-address limit on new visitors does not stop it: the cap must. Its
clock is held still so the count is exact; what got through is read from the database.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from sqlmodel import select

from adapters.site.adapter import SiteAdapter
from adapters.site.limits import NEW_CONVERSATIONS, RateLimiter
from app.demo import DemoRunner
from sandbox.demo.settings import WIDGET_ID
from storage.models import Conversation, Customer
from tests.security.abuse import Ledger, WebhookProbe

pytestmark = pytest.mark.timeout(90)

CHANNEL = f"site:{WIDGET_ID}"
VISITORS = 40


@pytest.fixture
def demo_changes() -> dict[str, Any]:
    return {"http": {"trusted_proxies": ["127.0.0.0/8"]}}


def widget(demo: DemoRunner) -> SiteAdapter:
    assert demo.service is not None
    (adapter,) = (c for c in demo.service.components if getattr(c, "channel", None) == CHANNEL)
    assert isinstance(adapter, SiteAdapter)
    return adapter


async def site_conversations(demo: DemoRunner) -> int:
    assert demo.service is not None
    async with demo.service.runtime.session() as session:
        statement = select(Conversation).join(Customer).where(Customer.channel == CHANNEL)
        return len((await session.exec(statement)).all())


async def test_new_conversation_flood_from_a_script(demo: DemoRunner, ledger: Ledger) -> None:
    row = ledger.attack("new-conversation flood from a script")
    widget(demo).new_conversation_limit = RateLimiter(NEW_CONVERSATIONS, clock=lambda: 0.0)
    before = await site_conversations(demo)
    base = demo.base_url

    async def visitor(number: int, http: aiohttp.ClientSession) -> int:
        headers = {"Origin": base, "X-Forwarded-For": f"203.0.113.{number}"}
        async with http.post(f"{base}/widget/{WIDGET_ID}/visitors", headers=headers) as answer:
            token = (await answer.json())["token"]
        headers["Authorization"] = f"Bearer {token}"
        body = {"id": f"flood-{number:05d}", "text": f"buy cheap pills {number}"}
        url = f"{base}/widget/{WIDGET_ID}/messages"
        async with http.post(url, json=body, headers=headers) as answer:
            await answer.read()
            return answer.status

    async with aiohttp.ClientSession() as http, WebhookProbe(base, row):
        statuses = await asyncio.gather(*(visitor(n, http) for n in range(VISITORS)))
    opened = await site_conversations(demo) - before
    row.statuses(statuses, succeeded=max(0, opened - NEW_CONVERSATIONS.burst))

    assert opened == NEW_CONVERSATIONS.burst
    assert sorted(statuses) == [200] * opened + [429] * (VISITORS - opened)
    assert row.succeeded == 0 and row.server_errors == 0 and row.webhooks_ok
