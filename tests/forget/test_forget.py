"""`talker-bridge forget` and Meta's Data Deletion Request Callback (issue 17), through the
running bridge against the fake platforms: the customer's messages, files and profile go, the
conversations stay for the counters, a tombstone is posted in the topic, and replies there are
refused. A forged or malformed deletion request changes nothing.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from storage.db import create_engine, session_factory
from storage.models import Conversation, Customer, Message
from tests.adapters.contract.harness import (
    FB_SECRET,
    TG_SECRET,
    TOKEN,
    Bridge,
    FacebookCustomer,
    SiteCustomer,
    VkCustomer,
    eventually,
    running_bridge,
)
from tests.app.test_dead_letters_cli import cli

pytestmark = pytest.mark.timeout(120)

TOMBSTONE = "data was deleted on request"
REFUSED = "Not sent: the customer can no longer be reached (data deleted on request)"
DELETION = "/webhooks/facebook/data-deletion"


def config_file(bridge: Bridge, folder: Path) -> str:
    """The running service's database and group, as the admin's YAML file."""
    data = {
        "language": "en",
        "database": bridge.config.database,
        "http": {"host": "127.0.0.1", "port": 8080, "public_url": bridge.url},
        "telegram": {
            "token": TOKEN,
            "api_url": str(bridge.config.telegram.api_url),
            "updates": "webhook",
            "webhook_secret": TG_SECRET,
        },
        "groups": {"support": {"chat_id": bridge.group_id, "mode": "topics"}},
        "channels": {"telegram": {"group": "support"}},
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return str(path)


async def rows(bridge: Bridge) -> tuple[list[Customer], list[Conversation], list[Message]]:
    engine = create_engine(bridge.config.database)
    try:
        async with session_factory(engine)() as session:
            customers = list((await session.exec(select(Customer))).all())
            conversations = list((await session.exec(select(Conversation))).all())
            messages = list((await session.exec(select(Message))).all())
            return customers, conversations, messages
    finally:
        await engine.dispose()


async def customer_of(bridge: Bridge, channel: str) -> Customer:
    """The channel's newest customer (a forgotten one stays, under no platform id)."""
    customers, _, _ = await rows(bridge)
    return max((c for c in customers if c.channel == channel), key=lambda c: c.id or 0)


async def messages_of(bridge: Bridge, customer_id: int) -> list[Message]:
    _, conversations, messages = await rows(bridge)
    mine = {c.id for c in conversations if c.customer_id == customer_id}
    return [m for m in messages if m.conversation_id in mine]


def told(bridge: Bridge, thread: int, wanted: str) -> bool:
    return any(wanted in t for t in bridge.topic_texts(thread))


async def accepted_with_history(bridge: Bridge, customer: Any, text: str) -> int:
    await customer.says(text)
    thread = await bridge.accept()
    await eventually(lambda: told(bridge, thread, text), what="the history in the topic")
    return thread


async def assert_forgotten(bridge: Bridge, customer_id: int, thread: int, secret: str) -> None:
    """No message or profile left; the conversation kept; the tombstone in the topic; a
    reply there is refused and its text reaches nobody."""
    assert await messages_of(bridge, customer_id) == []
    customers, conversations, _ = await rows(bridge)
    row = next(c for c in customers if c.id == customer_id)
    assert row.name is None and row.profile is None
    assert secret not in json.dumps(row.model_dump(mode="json"))
    assert any(c.customer_id == customer_id for c in conversations)
    await eventually(lambda: told(bridge, thread, TOMBSTONE), what="the tombstone")

    def topic_name() -> str:
        return next(
            t.name for t in bridge.telegram.topics(bridge.group_id) if t.thread_id == thread
        )

    await eventually(lambda: "Lopez" not in topic_name(), what="the topic renamed")
    await eventually(
        lambda: all("Lopez" not in (card.caption or "") for card in bridge.cards()),
        what="the cards without the name",
    )


async def test_forget_a_vk_customer_by_channel_and_id(db_url: str, tmp_path: Path) -> None:
    async with running_bridge(db_url) as bridge:
        customer = VkCustomer(bridge)
        thread = await accepted_with_history(bridge, customer, "my card is 4111 1111")
        row = await customer_of(bridge, "vk")
        assert row.name == "Maria Lopez" and await messages_of(bridge, row.id or 0)
        assert any("Lopez" in t.name for t in bridge.telegram.topics(bridge.group_id))
        assert any("Lopez" in (card.caption or "") for card in bridge.cards())
        config = config_file(bridge, tmp_path)

        code, out, err = await cli("forget", "-c", config, "--channel", "vk", "--id", "501")
        assert code == 0, err
        assert "1 message(s)" in out and "profile removed" in out

        assert await messages_of(bridge, row.id or 0) == []
        await assert_forgotten(bridge, row.id or 0, thread, "Maria")
        texts, _, _ = await rows(bridge)
        assert "4111" not in json.dumps([c.model_dump(mode="json") for c in texts])

        bridge.operator_says(thread, "Are you still there?")
        await eventually(lambda: told(bridge, thread, REFUSED), what="the refusal")
        await asyncio.sleep(0.5)
        assert "Are you still there?" not in customer.received_texts()

        # Nothing left to find: exit 1 with a clear message.
        code, _, err = await cli("forget", "-c", config, "--channel", "vk", "--id", "501")
        assert code == 1 and "no customer 501 on vk found" in err

        # Writing again starts afresh: a new customer, a new card, none of the old history.
        cards = len(bridge.cards())
        await customer.says("hello again")
        await eventually(lambda: len(bridge.cards()) > cards, what="a new card")
        again = await customer_of(bridge, "vk")
        assert again.id != row.id and again.name == "Maria Lopez"
        assert [m.text for m in await messages_of(bridge, again.id or 0)] == ["hello again"]


async def test_forget_a_widget_visitor_by_conversation_removes_their_files(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        visitor = SiteCustomer(bridge)
        thread = await accepted_with_history(bridge, visitor, "here is my invoice")
        await visitor.sends_photo()
        row = await customer_of(bridge, "site:shop")
        await eventually(
            lambda: len(bridge.topic_texts(thread)) >= 3, what="the photo in the topic"
        )
        folder = Path(sqlite_url.split("///")[-1]).parent / "site-files" / "shop"
        folder /= row.external_id
        stored = [p for p in folder.iterdir() if not p.name.endswith(".json")]
        assert len(stored) == 1
        _, conversations, _ = await rows(bridge)
        number = next(c.id for c in conversations if c.customer_id == row.id)

        config = config_file(bridge, tmp_path)
        code, out, err = await cli("forget", "-c", config, "--conversation", str(number))
        assert code == 0, err
        assert "2 message(s), 1 file(s)" in out

        assert not folder.exists()
        assert await visitor._history() == []
        await assert_forgotten(bridge, row.id or 0, thread, row.external_id)
        bridge.operator_says(thread, "Your refund is on its way")
        await eventually(lambda: told(bridge, thread, REFUSED), what="the refusal")

        code, _, err = await cli("forget", "-c", config, "--conversation", str(number))
        assert code == 1 and "already forgotten; nothing deleted" in err
        assert sum(TOMBSTONE in t for t in bridge.topic_texts(thread)) == 1


async def test_forget_refuses_bad_arguments_and_unknown_conversations(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        config = config_file(bridge, tmp_path)
        code, _, err = await cli("forget", "-c", config, "--channel", "vk")
        assert code == 2 and "--channel and --id" in err
        code, _, err = await cli("forget", "-c", config, "--conversation", "9", "--id", "1")
        assert code == 2
        code, _, err = await cli(
            "forget", "-c", str(tmp_path / "none.yaml"), "--conversation", "1"
        )
        assert code == 2 and "none.yaml" in err
        code, _, err = await cli("forget", "-c", config, "--conversation", "999")
        assert code == 1 and "no conversation #999 found; nothing deleted" in err


# ---- Meta's Data Deletion Request Callback ------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_request(payload: dict[str, Any], secret: str = FB_SECRET) -> str:
    """`<signature>.<payload>` as Meta signs it (base64url without padding)."""
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{b64(signature)}.{body}"


def request_of(user: str) -> dict[str, Any]:
    return {"algorithm": "HMAC-SHA256", "user_id": user, "issued_at": 1_700_000_000}


async def post_form(bridge: Bridge, data: Any) -> tuple[int, Any]:
    async with bridge.http.post(bridge.url + DELETION, data=data) as response:
        body = await response.text()
        return response.status, body


async def test_the_facebook_data_deletion_callback_deletes_and_reports_a_status(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = FacebookCustomer(bridge)
        thread = await accepted_with_history(bridge, customer, "my address is Main St 5")
        row = await customer_of(bridge, "facebook")

        status, body = await post_form(
            bridge, {"signed_request": signed_request(request_of(customer.user_id))}
        )
        assert status == 200, body
        answer = json.loads(body)
        assert set(answer) == {"url", "confirmation_code"}
        code = answer["confirmation_code"]
        assert answer["url"] == f"{bridge.url}{DELETION}/status?id={code}"
        assert customer.user_id not in code

        assert await messages_of(bridge, row.id or 0) == []
        await assert_forgotten(bridge, row.id or 0, thread, customer.user_id)
        async with bridge.http.get(answer["url"]) as response:
            assert response.status == 200
            page = await response.text()
        assert code in page and "Completed" in page and "deleted" in page
        async with bridge.http.get(f"{bridge.url}{DELETION}/status?id=0123") as response:
            assert response.status == 404

        bridge.operator_says(thread, "We will call you")
        await eventually(lambda: told(bridge, thread, REFUSED), what="the refusal")

        # Someone Meta knows but we never heard from: a code, nothing held.
        status, body = await post_form(
            bridge, {"signed_request": signed_request(request_of("999000111"))}
        )
        assert status == 200
        async with bridge.http.get(json.loads(body)["url"]) as response:
            assert "held no data" in await response.text()


@pytest.mark.parametrize(
    "form",
    [
        "forged",
        "no algorithm",
        "no user",
        "no dot",
        "not base64",
        "no field",
        "two fields",
    ],
)
async def test_a_forged_or_malformed_deletion_request_is_refused_and_changes_nothing(
    sqlite_url: str, form: str
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        customer = FacebookCustomer(bridge)
        await customer.says("keep me")
        await eventually(lambda: bridge.cards(), what="the card")
        before = await rows(bridge)
        good = signed_request(request_of(customer.user_id))
        data: Any = {
            "forged": {"signed_request": signed_request(request_of(customer.user_id), "wrong")},
            "no algorithm": {"signed_request": signed_request({"user_id": customer.user_id})},
            "no user": {"signed_request": signed_request({"algorithm": "HMAC-SHA256"})},
            "no dot": {"signed_request": good.replace(".", "")},
            "not base64": {"signed_request": "!!!." + good.split(".")[1]},
            "no field": {"other": good},
            "two fields": [("signed_request", good), ("signed_request", good)],
        }[form]
        status, _ = await post_form(bridge, data)
        assert 400 <= status < 500
        after = await rows(bridge)
        assert [c.model_dump() for c in after[0]] == [c.model_dump() for c in before[0]]
        assert len(after[2]) == len(before[2]) == 1
