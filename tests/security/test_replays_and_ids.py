"""Ids and replays (issue 14): the same number on four platforms is four customers, and a
captured webhook posted again, byte for byte with its valid signature, stores nothing new.

Driven against the whole service with every fake (the `demo` fixture), over real HTTP.
"""

from __future__ import annotations

import asyncio

import aiohttp
from sqlmodel import select

from app.demo import DemoRunner
from sandbox.common import Delivery
from storage.models import Conversation, Customer, Message
from tests.security.abuse import Ledger, WebhookProbe

SAME = 424242
REPLAYS = 20


async def _rows(demo: DemoRunner, model) -> list:
    assert demo.service is not None and demo.service.runtime is not None
    async with demo.service.runtime.sessions() as session:
        return list((await session.exec(select(model))).all())


async def _until(check, seconds: float = 15.0):
    for _ in range(int(seconds / 0.05)):
        if result := await check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def _replay(delivery: Delivery, times: int) -> list[int]:
    attempt = delivery.attempts[-1]
    statuses = []
    async with aiohttp.ClientSession() as http:
        for _ in range(times):
            async with http.post(attempt.url, data=attempt.body, headers=attempt.headers) as r:
                statuses.append(r.status)
    return statuses


async def test_one_number_on_four_platforms_is_four_customers(demo: DemoRunner, ledger: Ledger):
    row = ledger.attack("one id on four platforms (collision)")
    fakes = demo.sandbox
    assert fakes is not None
    user = fakes.telegram.add_user("Same", "Number", user_id=SAME)
    fakes.vk.add_user(SAME, "Same", "Number")
    fakes.viber.add_user(str(SAME), name="Same Number")
    fakes.facebook.add_user(str(SAME), first_name="Same", last_name="Number")
    fakes.telegram.user_says(user, "from telegram")
    await fakes.vk.customer_message(SAME, "from vk")
    await fakes.viber.customer_message(str(SAME), "from viber")
    await fakes.facebook.customer_message(str(SAME), "from facebook")

    async def four() -> list[Message] | None:
        messages = [m for m in await _rows(demo, Message) if (m.text or "").startswith("from ")]
        return messages if len(messages) == 4 else None

    messages = await _until(four)
    customers = [c for c in await _rows(demo, Customer) if c.external_id == str(SAME)]
    conversations = await _rows(demo, Conversation)
    owners = {c.customer_id for c in conversations if c.customer_id in {x.id for x in customers}}
    row.count(200, succeeded=len(customers) != 4 or len(owners) != 4)
    assert sorted(c.channel for c in customers) == ["facebook", "telegram", "viber", "vk"]
    assert len(owners) == 4
    by_conversation = {m.conversation_id: m.text for m in messages}
    assert sorted(by_conversation.values()) == [
        "from facebook",
        "from telegram",
        "from viber",
        "from vk",
    ]


async def test_replayed_webhooks_store_nothing_new(demo: DemoRunner, ledger: Ledger):
    row = ledger.attack("replayed signed webhooks (Viber, Facebook)")
    fakes = demo.sandbox
    assert fakes is not None
    viber_user = fakes.viber.add_user(name="Replay Viber")
    psid = fakes.facebook.add_user(first_name="Replay", last_name="Facebook")
    viber = await fakes.viber.customer_message(viber_user, "viber once")
    facebook = await fakes.facebook.customer_message(psid, "facebook once")

    async def stored() -> list[Message] | None:
        found = [m for m in await _rows(demo, Message) if (m.text or "").endswith(" once")]
        return found if len(found) == 2 else None

    await _until(stored)
    async with WebhookProbe(demo.base_url, row):
        statuses = await _replay(viber, REPLAYS) + await _replay(facebook, REPLAYS)
    await asyncio.sleep(0.5)
    found = [m for m in await _rows(demo, Message) if (m.text or "").endswith(" once")]
    row.statuses(statuses, succeeded=len(found) - 2)
    assert set(statuses) == {200}  # acknowledged (the platform stops), and
    assert len(found) == 2  # stored once
    assert row.server_errors == 0 and row.webhooks_ok


async def test_forged_signatures_on_the_webhooks_are_refused(demo: DemoRunner, ledger: Ledger):
    row = ledger.attack("forged signatures on Viber and Facebook webhooks")
    fakes = demo.sandbox
    assert fakes is not None
    viber_user = fakes.viber.add_user(name="Forged Viber")
    psid = fakes.facebook.add_user(first_name="Forged", last_name="Facebook")
    viber = await fakes.viber.customer_message(viber_user, "genuine viber")
    facebook = await fakes.facebook.customer_message(psid, "genuine facebook")
    before = len(await _rows(demo, Message))
    statuses = []
    async with aiohttp.ClientSession() as http, WebhookProbe(demo.base_url, row):
        for delivery, header in (
            (viber, "X-Viber-Content-Signature"),
            (facebook, "X-Hub-Signature-256"),
        ):
            attempt = delivery.attempts[-1]
            genuine = attempt.headers[header]
            body = attempt.body.replace(b"genuine", b"tampered")
            for signature in (
                genuine,  # a valid signature of another body
                "",
                "0" * len(genuine),
                genuine[:-1],
                "sha256=" + "f" * 64,
                genuine.upper(),
            ):
                headers = {**attempt.headers, header: signature}
                async with http.post(attempt.url, data=body, headers=headers) as r:
                    statuses.append(r.status)
            headers = {k: v for k, v in attempt.headers.items() if k != header}
            async with http.post(attempt.url, data=body, headers=headers) as r:
                statuses.append(r.status)
    await asyncio.sleep(0.3)
    tampered = [m for m in await _rows(demo, Message) if "tampered" in (m.text or "")]
    row.statuses(statuses, succeeded=len(tampered) + sum(s < 400 for s in statuses))
    assert all(400 <= s < 500 for s in statuses), statuses
    assert tampered == [] and len(await _rows(demo, Message)) == before
    assert row.webhooks_ok
