"""GET/POST /webhooks/facebook against the fake Page's real, signed deliveries."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.common.signatures import hmac_sha256_hex
from adapters.facebook.adapter import FacebookAdapter
from bridge.events import Outbound
from sandbox.facebook.fake import FakeFacebook
from tests.adapters.facebook.conftest import APP_SECRET
from tests.adapters.outbox_rows import reply_row
from tests.adapters.recording_sink import RecordingSink

PAYLOADS = Path(__file__).parent / "payloads"
Fb = tuple[FacebookAdapter, str]


async def post(url: str, body: bytes, signature: str | None) -> int:
    headers = {"X-Hub-Signature-256": signature} if signature is not None else {}
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


def sign(body: bytes) -> str:
    return "sha256=" + hmac_sha256_hex(APP_SECRET, body)


async def test_handshake_echoes_the_challenge_only_for_the_right_token(fb: Fb) -> None:
    url = fb[1]
    async with aiohttp.ClientSession() as http:
        good = {"hub.mode": "subscribe", "hub.verify_token": "fb-verify-token-tests"}
        async with http.get(url, params={**good, "hub.challenge": "1158201444"}) as r:
            assert (r.status, await r.text()) == (200, "1158201444")
        for bad in (
            {**good, "hub.verify_token": "guess", "hub.challenge": "1"},
            {**good, "hub.mode": "unsubscribe", "hub.challenge": "1"},
            {"hub.challenge": "1"},
        ):
            async with http.get(url, params=bad) as r:
                assert r.status == 403


async def test_a_message_is_stored_with_the_profile_name(
    fake_fb: FakeFacebook, sink: RecordingSink, fb: Fb
) -> None:
    psid = fake_fb.add_user(first_name="Anna", last_name="Schmidt")
    delivery = await fake_fb.customer_message(psid, "Hallo, ich habe eine Frage")
    assert delivery.succeeded
    [event] = sink.inbound_events
    mid = delivery.payload["entry"][0]["messaging"][0]["message"]["mid"]
    assert (event.chat, event.user, event.external_id) == (psid, psid, mid)
    assert event.text == "Hallo, ich habe eine Frage"
    assert event.profile is not None and event.profile.full_name == "Anna Schmidt"


async def test_a_refused_profile_leaves_a_guest(
    fake_fb: FakeFacebook, sink: RecordingSink, fb: Fb
) -> None:
    phone_only = fake_fb.add_user(profile="none")
    no_access = fake_fb.add_user(profile="forbidden")
    await fake_fb.customer_message(phone_only, "hi")
    await fake_fb.customer_message(no_access, "hi")
    assert [e.profile for e in sink.inbound_events] == [None, None]
    assert await fb[0].lookup_profile(phone_only) is None


async def test_attachments_and_postbacks_arrive(
    fake_fb: FakeFacebook, sink: RecordingSink, fb: Fb
) -> None:
    psid = fake_fb.add_user()
    await fake_fb.customer_message(
        psid, attachments=[{"type": "image", "url": "https://example.com/i.jpg"}]
    )
    await fake_fb.customer_postback(psid, "Get Started", "GET_STARTED")
    photo, postback = sink.inbound_events
    assert [(a.kind, a.url) for a in photo.attachments] == [("photo", "https://example.com/i.jpg")]
    assert postback.text == "Get Started"


async def test_every_entry_of_a_batch_is_read_and_echoes_are_ignored(
    sink: RecordingSink, fb: Fb
) -> None:
    body = (PAYLOADS / "batched_entries.json").read_bytes()
    assert await post(fb[1], body, sign(body)) == 200
    text, media, postback = sink.inbound_events
    assert text.text == "Hi, is the shop open today?"
    assert [a.kind for a in media.attachments] == [
        "photo",
        "sticker",
        "document",
        "voice",
        "location",
        "link",
    ]
    assert media.attachments[4].longitude == 13.405
    assert postback.external_id == "m_postback1" and postback.text == "Talk to a human"


async def test_a_repeated_delivery_is_reported_with_the_same_mid(
    sink: RecordingSink, fb: Fb
) -> None:
    body = (PAYLOADS / "batched_entries.json").read_bytes()
    assert await post(fb[1], body, sign(body)) == 200
    assert await post(fb[1], body, sign(body)) == 200
    assert len(sink.inbound_events) == 3  # the sink dropped the repeats by mid


async def test_forged_or_missing_signature_is_403_and_nothing_is_stored(
    sink: RecordingSink, fb: Fb
) -> None:
    body = (PAYLOADS / "batched_entries.json").read_bytes()
    forged = "sha256=" + hmac_sha256_hex("wrong-secret", body)
    for signature in (forged, None, "", hmac_sha256_hex(APP_SECRET, body), "sha256=zz"):
        assert await post(fb[1], body, signature) == 403
    assert sink.calls == 0


async def test_a_failed_commit_is_retried_by_meta(
    fake_fb: FakeFacebook, sink: RecordingSink, fb: Fb
) -> None:
    psid = fake_fb.add_user()
    sink.fail_next = 1
    delivery = await fake_fb.customer_message(psid, "again")
    assert [a.status for a in delivery.attempts] == [503, 200]
    assert [e.text for e in sink.inbound_events] == ["again"]


async def test_delivery_receipts_report_our_messages(
    fake_fb: FakeFacebook, sink: RecordingSink, fb: Fb
) -> None:
    # Read receipts name no message: they are resolved in the database, which this adapter
    # has none of (tests/adapters/test_platform_state_in_db.py runs them on the whole bridge).
    psid = fake_fb.add_user()
    await fake_fb.customer_message(psid, "hi")
    result = await fb[0].sender.deliver(reply_row("facebook", Outbound("facebook", psid, "hello")))
    await fake_fb.customer_receipt(psid, "delivery")
    await fake_fb.customer_receipt(psid, "read")
    assert sink.deliveries == [("facebook", result["message_id"], "delivered", None)]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)
PATHS = [
    ("object",),
    ("entry",),
    ("entry", 0),
    ("entry", 1, "messaging"),
    ("entry", 1, "messaging", 0),
    ("entry", 1, "messaging", 0, "sender"),
    ("entry", 1, "messaging", 0, "message"),
    ("entry", 1, "messaging", 0, "message", "mid"),
    ("entry", 1, "messaging", 0, "message", "attachments"),
    ("entry", 1, "messaging", 0, "message", "attachments", 4, "payload"),
    ("entry", 3, "messaging", 0, "postback"),
]


def build(path: tuple[object, ...], junk: object) -> bytes:
    body = json.loads((PAYLOADS / "batched_entries.json").read_text())
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = junk
    return json.dumps(body).encode()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.builds(build, st.sampled_from(PATHS), json_values) | st.binary(max_size=64))
async def test_signed_malformed_bodies_get_4xx_and_store_nothing(
    body: bytes, fb: Fb, sink: RecordingSink
) -> None:
    before = sink.stored
    status = await post(fb[1], body, sign(body))
    if status == 200:  # the junk happened to be valid
        return
    assert 400 <= status < 500, status
    assert sink.stored == before
