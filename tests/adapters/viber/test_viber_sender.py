"""Replies to Viber customers through the outbox sender, and profile lookups, against the fake."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
import pytest

from adapters.common.http import client_session
from adapters.viber.adapter import ViberAdapter
from bridge.errors import PermanentError, RecipientUnreachable, RetryAfter, TransientError
from bridge.events import Attachment, Outbound
from sandbox.viber.fake import FakeViber
from tests.adapters.outbox_rows import reply_row
from tests.adapters.recording_sink import RecordingSink

Webhook = tuple[ViberAdapter, str]


@pytest.fixture
def customer(fake_viber: FakeViber, viber_webhook: Webhook) -> str:
    return fake_viber.add_user(name="Oksana", subscribed=True)


async def test_a_text_reply_is_sent_with_the_configured_sender_name(
    fake_viber: FakeViber, viber_webhook: Webhook, customer: str
) -> None:
    adapter = viber_webhook[0]
    result = await adapter.sender.deliver(reply_row("viber", Outbound("viber", customer, "Hi")))
    [sent] = fake_viber.received(customer)
    assert sent["type"] == "text" and sent["text"] == "Hi"
    assert sent["sender"] == {"name": "Shop"}
    assert result["message_id"] == str(sent["message_token"])
    assert int(result["message_id"]) > 2**53


async def test_a_picture_carries_the_text_as_its_caption_and_a_file_its_size(
    fake_viber: FakeViber, viber_webhook: Webhook, customer: str
) -> None:
    photo = Attachment("photo", url="https://cdn.example.com/p.jpg")
    document = Attachment("document", url="https://cdn.example.com/a.pdf", size=2048)
    row = reply_row("viber", Outbound("viber", customer, "your receipt", (photo, document)))
    result = await viber_webhook[0].sender.deliver(row)
    picture, file = fake_viber.received(customer)
    assert (picture["type"], picture["text"], picture["media"]) == (
        "picture",
        "your receipt",
        "https://cdn.example.com/p.jpg",
    )
    assert (file["type"], file["size"], file["file_name"]) == ("file", 2048, "a.pdf")
    assert len(result["message_ids"]) == 2


async def test_media_without_a_public_url_is_refused_clearly(
    viber_webhook: Webhook, customer: str
) -> None:
    photo = Attachment("photo", data=b"\x89PNG")
    with pytest.raises(PermanentError, match="public URL"):
        await viber_webhook[0].sender.deliver(
            reply_row("viber", Outbound("viber", customer, "", (photo,)))
        )


async def test_an_unsubscribed_customer_is_unreachable(
    fake_viber: FakeViber, viber_webhook: Webhook, customer: str
) -> None:
    await fake_viber.customer_unsubscribes(customer)
    with pytest.raises(RecipientUnreachable) as caught:
        await viber_webhook[0].sender.deliver(reply_row("viber", Outbound("viber", customer, "x")))
    assert caught.value.code == 6


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "error", "error": {"status": 12}}, RetryAfter),
        ({"kind": "error", "error": {"status": 5}}, RecipientUnreachable),
        ({"kind": "error", "error": {"status": 3}}, PermanentError),
        ({"kind": "http500"}, TransientError),
    ],
)
async def test_viber_statuses_become_bridge_errors(
    fake_viber: FakeViber,
    viber_webhook: Webhook,
    customer: str,
    fault: dict[str, object],
    expected: type,
) -> None:
    fake_viber.faults.add(endpoint="send_message", **fault)
    with pytest.raises(expected):
        await viber_webhook[0].sender.deliver(reply_row("viber", Outbound("viber", customer, "x")))
    assert fake_viber.received(customer) == []


async def test_a_hanging_viber_times_out_as_transient(
    fake_viber: FakeViber, make_viber: Callable[..., ViberAdapter], customer: str
) -> None:
    adapter = make_viber()
    adapter._http = client_session(aiohttp.ClientTimeout(total=0.3))
    fake_viber.faults.add("hang", endpoint="send_message", seconds=100)  # 1 s at 0.01
    with pytest.raises(TransientError):
        await adapter.sender.deliver(reply_row("viber", Outbound("viber", customer, "x")))


async def test_user_details_are_asked_at_most_once_per_user(
    fake_viber: FakeViber, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Bohdan", subscribed=True)
    adapter = viber_webhook[0]
    first = await adapter.lookup_profile(user)
    for _ in range(3):
        assert await adapter.lookup_profile(user) == first
    assert first is not None and first.full_name == "Bohdan"
    assert len(fake_viber.calls.calls("get_user_details")) == 1


async def test_a_name_seen_in_a_message_needs_no_api_call(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Marta")
    await fake_viber.customer_message(user, "hi")
    profile = await viber_webhook[0].lookup_profile(user)
    assert profile is not None and profile.full_name == "Marta"
    assert fake_viber.calls.calls("get_user_details") == []
