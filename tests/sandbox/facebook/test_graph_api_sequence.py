"""A Messenger Platform call sequence as Meta's documentation shows it, replayed over HTTP.

There is no Graph SDK in the service, so the independent client here is Meta's documentation
(`specs/facebook/NOTES.md`): the webhook handshake and a signed delivery to a receiver that
checks the signature with the app secret as Meta's "Validating payloads" describes, then the
calls a Page makes as the reference pages write them (`?access_token=` in the URL, JSON or
multipart bodies), each answer checked for the documented shape — success bodies and the Graph
error envelope `{error: {message, type, code, error_subcode?, fbtrace_id}}`. None of the
bridge's Facebook code is used.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from sandbox.common import Clock
from sandbox.facebook import FakeFacebook
from sandbox.runner import serving
from tests.sandbox.facebook.conftest import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN

VERSION = "v21.0"
ERROR_FIELDS = {"message": str, "type": str, "code": int, "fbtrace_id": str}


@dataclass
class Receiver:
    """A webhook written from Meta's pages: the handshake, then events whose signatures (the
    SHA-256 header and the older SHA-1 one) check out with the app secret."""

    handshakes: list[dict[str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0
    url: str = ""

    async def verify(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.handshakes.append(query)
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == VERIFY_TOKEN:
            return web.Response(text=query["hub.challenge"])
        return web.Response(status=403)

    async def receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        header = request.headers.get("X-Hub-Signature-256", "")
        expected = "sha256=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        older = "sha1=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha1).hexdigest()
        if not hmac.compare_digest(header, expected) or not hmac.compare_digest(
            request.headers.get("X-Hub-Signature", ""), older
        ):
            self.refused += 1
            return web.Response(status=403)
        self.events.append(json.loads(raw))
        return web.Response(text="EVENT_RECEIVED")


@dataclass
class Graph:
    """`https://graph.facebook.com/<version>/…` as the pages write calls to it."""

    base: str
    session: aiohttp.ClientSession
    token: str = PAGE_TOKEN

    async def get(self, node: str, **params: str) -> tuple[int, dict[str, Any]]:
        query = {**params, "access_token": self.token}
        async with self.session.get(f"{self.base}/{VERSION}/{node}", params=query) as answer:
            return answer.status, await answer.json()

    async def post(
        self, edge: str, body: dict[str, Any] | aiohttp.FormData
    ) -> tuple[int, dict[str, Any]]:
        url = f"{self.base}/{VERSION}/me/{edge}"
        sent = {"data": body} if isinstance(body, aiohttp.FormData) else {"json": body}
        async with self.session.post(url, params={"access_token": self.token}, **sent) as answer:
            return answer.status, await answer.json()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    app = web.Application()
    app.router.add_get("/webhook", hook.verify)
    app.router.add_post("/webhook", hook.receive)
    async with serving(app) as running:
        hook.url = f"{running.base_url}/webhook"
        yield hook


@pytest.fixture
async def page(receiver: Receiver) -> AsyncIterator[FakeFacebook]:
    fake = FakeFacebook(page_token=PAGE_TOKEN, app_secret=APP_SECRET, clock=Clock())
    async with serving(fake.app) as running:
        fake.public_url = running.base_url
        assert await fake.verify_webhook(receiver.url, VERIFY_TOKEN)
        yield fake


@pytest.fixture
async def graph(page: FakeFacebook) -> AsyncIterator[Graph]:
    async with aiohttp.ClientSession() as session:
        yield Graph(page.public_url, session)


def multipart(**parts: Any) -> aiohttp.FormData:
    """A multipart body as Meta's curl examples build it: JSON parts and `filedata`."""
    form = aiohttp.FormData()
    for name, value in parts.items():
        if name == "filedata":
            data, filename, content_type = value
            form.add_field("filedata", data, filename=filename, content_type=content_type)
        else:
            form.add_field(name, value if isinstance(value, str) else json.dumps(value))
    return form


def graph_error(status: int, answer: dict[str, Any]) -> dict[str, Any]:
    """The `error` object of a Graph failure, its documented fields and types checked."""
    assert status == 400
    assert set(answer) == {"error"}
    error = answer["error"]
    assert {name: type(error.get(name)) for name in ERROR_FIELDS} == ERROR_FIELDS
    assert set(error) <= {*ERROR_FIELDS, "error_subcode", "error_user_title", "error_user_msg"}
    assert isinstance(error.get("error_subcode", 0), int)
    return dict(error)


# ---- the sequence ---------------------------------------------------------------------------


async def test_handshake_then_a_signed_message_event_in_meta_envelope(
    page: FakeFacebook, receiver: Receiver
) -> None:
    [handshake] = receiver.handshakes
    assert handshake["hub.mode"] == "subscribe" and handshake["hub.verify_token"] == VERIFY_TOKEN
    assert handshake["hub.challenge"].isdigit()

    psid = page.add_user(first_name="Anna", last_name="Müller")
    await page.customer_message(psid, "Grüß Gott, wo ist mein Paket?")
    assert receiver.refused == 0
    [event] = receiver.events
    assert event["object"] == "page"
    [entry] = event["entry"]
    assert entry["id"] == page.page_id and isinstance(entry["time"], int)
    [messaging] = entry["messaging"]
    assert messaging["sender"] == {"id": psid}
    assert messaging["recipient"] == {"id": page.page_id}
    assert isinstance(messaging["timestamp"], int)
    assert messaging["message"]["text"] == "Grüß Gott, wo ist mein Paket?"
    assert messaging["message"]["mid"].startswith("m_")


async def test_profile_then_typing_then_a_text_reply(page: FakeFacebook, graph: Graph) -> None:
    psid = page.add_user(first_name="Anna", last_name="Müller")
    await page.customer_message(psid, "hello")

    status, profile = await graph.get(psid, fields="first_name,last_name,profile_pic")
    assert status == 200
    assert set(profile) == {"id", "first_name", "last_name", "profile_pic"}
    assert (profile["id"], profile["first_name"], profile["last_name"]) == (psid, "Anna", "Müller")
    async with graph.session.get(profile["profile_pic"]) as picture:
        assert picture.status == 200 and picture.content_type.startswith("image/")

    status, typing = await graph.post(
        "messages", {"recipient": {"id": psid}, "sender_action": "typing_on"}
    )
    assert (status, typing) == (200, {"recipient_id": psid})

    status, sent = await graph.post(
        "messages",
        {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "Hi Anna"}},
    )
    assert status == 200 and set(sent) == {"recipient_id", "message_id"}
    assert sent["recipient_id"] == psid and isinstance(sent["message_id"], str)
    assert page.received(psid)[-1]["message"] == {"text": "Hi Anna"}


async def test_attachment_upload_by_url_and_by_file_then_sent_by_id(
    page: FakeFacebook, graph: Graph
) -> None:
    psid = page.add_user()
    await page.customer_message(psid, "the invoice, please")
    by_url = {"type": "image", "payload": {"url": "https://x.test/a.png", "is_reusable": True}}
    status, uploaded = await graph.post("message_attachments", {"message": {"attachment": by_url}})
    assert status == 200 and set(uploaded) == {"attachment_id"}
    assert uploaded["attachment_id"].isdigit()

    file_message = {"attachment": {"type": "file", "payload": {"is_reusable": True}}}
    pdf = (b"%PDF-1.4 invoice", "invoice.pdf", "application/pdf")
    status, from_file = await graph.post(
        "message_attachments", multipart(message=file_message, filedata=pdf)
    )
    assert status == 200 and from_file["attachment_id"].isdigit()
    stored = page.attachments.items[from_file["attachment_id"]].file
    assert stored is not None and stored.data == pdf[0] and stored.name == "invoice.pdf"

    for attachment_id, kind in (
        (uploaded["attachment_id"], "image"),
        (from_file["attachment_id"], "file"),
    ):
        status, sent = await graph.post(
            "messages",
            {
                "recipient": {"id": psid},
                "messaging_type": "RESPONSE",
                "message": {
                    "attachment": {"type": kind, "payload": {"attachment_id": attachment_id}}
                },
            },
        )
        assert status == 200 and set(sent) == {"recipient_id", "message_id"}
    assert len(page.received(psid)) == 2


async def test_a_file_sent_with_the_message_answers_its_reusable_attachment_id(
    page: FakeFacebook, graph: Graph
) -> None:
    psid = page.add_user()
    await page.customer_message(psid, "a photo?")
    status, sent = await graph.post(
        "messages",
        multipart(
            recipient={"id": psid},
            messaging_type="RESPONSE",
            message={"attachment": {"type": "image", "payload": {"is_reusable": True}}},
            filedata=(b"\x89PNG photo", "photo.png", "image/png"),
        ),
    )
    assert status == 200 and set(sent) == {"recipient_id", "message_id", "attachment_id"}
    stored = page.attachments.items[sent["attachment_id"]].file
    assert stored is not None and stored.data == b"\x89PNG photo"

    by_url = {"type": "image", "payload": {"url": "https://x.test/b.png", "is_reusable": True}}
    status, reusable = await graph.post(
        "messages",
        {
            "recipient": {"id": psid},
            "messaging_type": "RESPONSE",
            "message": {"attachment": by_url},
        },
    )
    assert status == 200 and reusable["attachment_id"].isdigit()


# ---- the documented errors --------------------------------------------------------------------


async def test_graph_errors_come_in_the_documented_envelope(
    page: FakeFacebook, graph: Graph
) -> None:
    psid = page.add_user()
    await page.customer_message(psid, "hi")
    text = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "x"}}

    stolen = Graph(graph.base, graph.session, token="not-the-page-token")
    bad_token = graph_error(*await stolen.post("messages", text))
    assert (bad_token["code"], bad_token["type"]) == (190, "OAuthException")

    no_type = {k: v for k, v in text.items() if k != "messaging_type"}
    bad_param = graph_error(*await graph.post("messages", no_type))
    assert bad_param["code"] == 100 and bad_param["message"].startswith("(#100)")

    no_such_id = {"attachment": {"type": "image", "payload": {"attachment_id": "42"}}}
    bad_id = graph_error(*await graph.post("messages", {**text, "message": no_such_id}))
    assert bad_id["code"] == 100

    unknown = graph_error(*await graph.get("123456789", fields="first_name"))
    assert (unknown["code"], unknown["error_subcode"]) == (100, 33)
    assert unknown["type"] == "GraphMethodException"
    other_page = f"{graph.base}/{VERSION}/999999/messages"
    async with graph.session.post(other_page, params={"access_token": PAGE_TOKEN}, json=text) as r:
        not_this_page = graph_error(r.status, await r.json())
    assert (not_this_page["code"], not_this_page["type"]) == (100, "GraphMethodException")
    no_profile = graph_error(*await graph.get(page.add_user(profile="none"), fields="first_name"))
    assert (no_profile["code"], no_profile["error_subcode"]) == (100, 2018218)

    blocked = page.add_user()
    await page.customer_message(blocked, "bye")
    page.customer_blocks(blocked)
    unavailable = graph_error(
        *await graph.post("messages", {**text, "recipient": {"id": blocked}})
    )
    assert (unavailable["code"], unavailable["error_subcode"]) == (551, 1545041)

    page.clock.advance(25 * 3600)
    late = graph_error(*await graph.post("messages", text))
    assert (late["code"], late["error_subcode"]) == (10, 2018278)


async def test_calls_beyond_the_page_rate_get_613(receiver: Receiver) -> None:
    fake = FakeFacebook(page_token=PAGE_TOKEN, app_secret=APP_SECRET, send_calls_per_second=1)
    async with serving(fake.app) as running, aiohttp.ClientSession() as session:
        assert await fake.verify_webhook(receiver.url, VERIFY_TOKEN)
        psid = fake.add_user()
        await fake.customer_message(psid, "hi")
        graph = Graph(running.base_url, session)
        text = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": "x"}}
        first = await graph.post("messages", text)
        second = await graph.post("messages", text)
    assert first[0] == 200
    limited = graph_error(*second)
    assert limited["code"] == 613 and limited["message"].startswith("(#613)")
