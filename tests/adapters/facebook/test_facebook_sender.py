"""Replies to Messenger customers: the 24-hour window, HUMAN_AGENT up to 7 days, then refusal."""

from __future__ import annotations

import pytest

from adapters.facebook.adapter import FacebookAdapter
from bridge.errors import PermanentError, RecipientUnreachable, RetryAfter, TransientError
from bridge.events import Attachment, Outbound
from sandbox.facebook.fake import FakeFacebook
from tests.adapters.outbox_rows import reply_row

Fb = tuple[FacebookAdapter, str]
HOUR = 3600.0


@pytest.fixture
async def psid(fake_fb: FakeFacebook, fb: Fb) -> str:
    psid = fake_fb.add_user(first_name="Lea")
    await fake_fb.customer_message(psid, "hello")
    return psid


def row(psid: str, text: str = "reply", *attachments: Attachment) -> object:
    return reply_row("facebook", Outbound("facebook", psid, text, attachments))


async def test_inside_24_hours_a_reply_is_a_response(
    fake_fb: FakeFacebook, fb: Fb, psid: str
) -> None:
    result = await fb[0].sender.deliver(row(psid))
    [sent] = fake_fb.received(psid)
    assert sent["messaging_type"] == "RESPONSE" and "tag" not in sent
    assert result["message_id"] == sent["message_id"]


async def test_after_24_hours_the_human_agent_tag_is_used(
    fake_fb: FakeFacebook, fb: Fb, psid: str
) -> None:
    fake_fb.clock.advance(30 * HOUR)
    await fb[0].sender.deliver(row(psid, "first"))
    await fb[0].sender.deliver(row(psid, "second"))
    sent = fake_fb.received(psid)
    assert [(m["messaging_type"], m.get("tag")) for m in sent] == [
        ("MESSAGE_TAG", "HUMAN_AGENT"),
        ("MESSAGE_TAG", "HUMAN_AGENT"),
    ]
    refused = [c for c in fake_fb.calls.calls("messages") if c.outcome != "ok"]
    assert len(refused) == 1  # the second reply went straight to the tag


async def test_past_7_days_the_operator_gets_a_clear_reason(
    fake_fb: FakeFacebook, fb: Fb, psid: str
) -> None:
    fake_fb.clock.advance(8 * 24 * HOUR)
    with pytest.raises(PermanentError, match="more than 7 days") as caught:
        await fb[0].sender.deliver(row(psid))
    assert not isinstance(caught.value, RecipientUnreachable)
    assert fake_fb.received(psid) == []


async def test_a_new_message_reopens_the_standard_window(
    fake_fb: FakeFacebook, fb: Fb, psid: str
) -> None:
    fake_fb.clock.advance(30 * HOUR)
    await fb[0].sender.deliver(row(psid, "tagged"))
    await fake_fb.customer_message(psid, "I'm back")
    await fb[0].sender.deliver(row(psid, "response"))
    assert [m["messaging_type"] for m in fake_fb.received(psid)] == ["MESSAGE_TAG", "RESPONSE"]


async def test_attachments_are_sent_by_url_after_the_text(
    fake_fb: FakeFacebook, fb: Fb, psid: str
) -> None:
    photo = Attachment("photo", url="https://cdn.example.com/p.jpg")
    await fb[0].sender.deliver(row(psid, "see", photo))
    text, image = fake_fb.received(psid)
    assert text["message"] == {"text": "see"}
    assert image["message"]["attachment"]["type"] == "image"
    assert image["message"]["attachment"]["payload"]["url"] == "https://cdn.example.com/p.jpg"


async def test_a_blocked_customer_is_unreachable(fake_fb: FakeFacebook, fb: Fb, psid: str) -> None:
    fake_fb.customer_blocks(psid)
    with pytest.raises(RecipientUnreachable):
        await fb[0].sender.deliver(row(psid))


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "error", "error": {"code": 613, "message": "rate"}}, RetryAfter),
        ({"kind": "error", "error": {"code": 2, "message": "temporary"}}, TransientError),
        ({"kind": "error", "error": {"code": 190, "message": "bad token"}}, PermanentError),
        ({"kind": "http500"}, TransientError),
    ],
)
async def test_graph_errors_become_bridge_errors(
    fake_fb: FakeFacebook, fb: Fb, psid: str, fault: dict[str, object], expected: type
) -> None:
    fake_fb.faults.add(endpoint="messages", **fault)
    with pytest.raises(expected):
        await fb[0].sender.deliver(row(psid))
    assert fake_fb.received(psid) == []
