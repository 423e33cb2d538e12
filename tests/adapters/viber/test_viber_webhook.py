"""`POST /webhooks/viber` against the fake Viber's signed deliveries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.common.signatures import hmac_sha256_hex
from adapters.viber.adapter import ViberAdapter
from sandbox.viber.fake import FakeViber
from tests.adapters.recording_sink import RecordingSink
from tests.adapters.viber.conftest import TOKEN

PAYLOADS = Path(__file__).parent / "payloads"
Webhook = tuple[ViberAdapter, str]


async def post(url: str, body: bytes, signature: str | None) -> int:
    headers = {"X-Viber-Content-Signature": signature} if signature is not None else {}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


async def test_set_webhook_passes_viber_s_check(
    fake_viber: FakeViber, viber_webhook: Webhook
) -> None:
    assert fake_viber.webhook_url == viber_webhook[1]


async def test_a_text_message_is_stored_with_the_exact_64_bit_token_and_name(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Olena K")
    delivery = await fake_viber.customer_message(user, "Доброго дня")
    assert delivery.succeeded and delivery.attempts[0].status == 200
    [event] = sink.inbound_events
    token = delivery.payload["message_token"]
    assert token > 2**53 and event.external_id == str(token)
    assert (event.chat, event.user, event.text) == (user, user, "Доброго дня")
    assert event.profile is not None and event.profile.full_name == "Olena K"


async def test_media_messages_become_attachments(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Taras")
    messages: list[dict[str, Any]] = [
        {"type": "picture", "text": "receipt", "media": "https://example.com/r.jpg"},
        {"type": "file", "media": "https://example.com/a.pdf", "size": 10, "file_name": "a.pdf"},
        {"type": "sticker", "sticker_id": 40100},
        {"type": "location", "location": {"lat": 50.45, "lon": 30.52}},
        {"type": "contact", "contact": {"name": "Ann", "phone_number": "+380501234567"}},
    ]
    for message in messages:
        await fake_viber.customer_message(user, message=message)
    got = [(e.text, [a.kind for a in e.attachments]) for e in sink.inbound_events]
    assert got == [
        ("receipt", ["photo"]),
        ("", ["document"]),
        ("", ["sticker"]),
        ("", ["location"]),
        ("", ["contact"]),
    ]
    assert sink.inbound_events[1].attachments[0].file_name == "a.pdf"
    assert sink.inbound_events[3].attachments[0].latitude == 50.45


async def test_forged_or_missing_signature_is_403_and_nothing_is_stored(
    sink: RecordingSink, viber_webhook: Webhook
) -> None:
    body = (PAYLOADS / "message_picture.json").read_bytes()
    assert await post(viber_webhook[1], body, hmac_sha256_hex("not-the-token", body)) == 403
    assert await post(viber_webhook[1], body, None) == 403
    assert await post(viber_webhook[1], body, "") == 403
    assert sink.calls == 0
    assert await post(viber_webhook[1], body, hmac_sha256_hex(TOKEN, body)) == 200
    assert [e.text for e in sink.inbound_events] == ["Ось фото чеку"]


async def test_subscribe_and_unsubscribe_change_reachability(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Ira")
    await fake_viber.customer_subscribes(user)
    await fake_viber.customer_unsubscribes(user)
    assert [(c[1], c[2]) for c in sink.reachability_changes] == [(user, True), (user, False)]


async def test_conversation_started_is_answered_with_the_greeting(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="New")
    delivery = await fake_viber.conversation_started(user)
    welcome = json.loads(delivery.attempts[-1].answer)
    assert welcome == {
        "sender": {"name": "Shop"},
        "type": "text",
        "text": "Hi! An operator will answer soon.",
    }
    assert sink.stored == 0


async def test_receipts_report_the_delivery_state_by_token(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Max", subscribed=True)
    for event in ("delivered", "seen", "failed"):
        await fake_viber.receipt(event, user, 5_491_174_938_375_926_784, desc="bad keyboard")
    assert sink.deliveries == [
        ("viber", "5491174938375926784", "delivered", None),
        ("viber", "5491174938375926784", "seen", None),
        ("viber", "5491174938375926784", "failed", "bad keyboard"),
    ]


async def test_the_largest_64_bit_token_is_kept_exactly(
    sink: RecordingSink, viber_webhook: Webhook
) -> None:
    body = (PAYLOADS / "seen.json").read_bytes()
    assert await post(viber_webhook[1], body, hmac_sha256_hex(TOKEN, body)) == 200
    assert sink.deliveries == [("viber", "18446744073709551615", "seen", None)]


async def test_a_failed_commit_answers_non_200_so_viber_retries(
    fake_viber: FakeViber, sink: RecordingSink, viber_webhook: Webhook
) -> None:
    user = fake_viber.add_user(name="Retry")
    sink.fail_next = 2
    delivery = await fake_viber.customer_message(user, "keep me")
    assert [a.status for a in delivery.attempts] == [503, 503, 200]
    assert [e.text for e in sink.inbound_events] == ["keep me"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
PATHS = [
    ("event",),
    ("timestamp",),
    ("message_token",),
    ("sender",),
    ("sender", "id"),
    ("sender", "name"),
    ("message",),
    ("message", "type"),
    ("message", "text"),
    ("message", "media"),
]


def build(path: tuple[str, ...], junk: object) -> bytes:
    event = json.loads((PAYLOADS / "message_picture.json").read_text())
    node = event
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = junk
    return json.dumps(event).encode()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.builds(build, st.sampled_from(PATHS), json_values) | st.binary(max_size=64))
async def test_signed_malformed_bodies_get_4xx_and_never_reach_the_core(
    body: bytes, viber_webhook: Webhook, sink: RecordingSink
) -> None:
    before = sink.stored
    status = await post(viber_webhook[1], body, hmac_sha256_hex(TOKEN, body))
    if status == 200:  # the junk happened to be valid (e.g. another text)
        return
    assert 400 <= status < 500, status
    assert sink.stored == before


async def test_a_failed_receipt_without_a_reason_is_recorded_not_refused(
    sink: RecordingSink, viber_webhook: Webhook
) -> None:
    # Viber sends some `failed` callbacks without `desc` (aioviberbot#12): viberbot alone
    # raises KeyError on them, which would answer 400 and lose the failure.
    body = json.dumps(
        {
            "event": "failed",
            "timestamp": 1457764197627,
            "message_token": 4912661846655238145,
            "user_id": "01234567890A=",
        }
    ).encode()
    assert await post(viber_webhook[1], body, hmac_sha256_hex(TOKEN, body)) == 200
    assert sink.deliveries == [("viber", "4912661846655238145", "failed", "failed on the device")]
