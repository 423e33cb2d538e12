"""vk_api, used as its own documentation shows, as an independent client of the fake VK.

Nothing of the bridge's VK code is used here (not even its session): vk_api's `VkApiGroup`
posts to the URL it hard-codes, and the only change is a `requests.Session` that sends that
host to the fake. Answers are parsed by vk_api itself (`VkApi.method`, `VkUpload`,
`VkBotLongPoll` and its `VkBotEvent` classes, `ApiError` and its error handlers) and checked
against VK's JSON Schema 5.199 (`vk_schema.py`), so a shape the fake gets wrong shows here
independently of the bridge's reading of VK.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
import requests
import vk_api
from aiohttp import web
from vk_api.bot_longpoll import (
    VkBotEvent,
    VkBotEventType,
    VkBotLongPoll,
    VkBotMessageEvent,
)
from vk_api.exceptions import ApiError
from vk_api.upload import VkUpload

from sandbox.runner import serving
from sandbox.vk import FakeVK
from tests.sandbox.vk.conftest import GROUP_ID, TOKEN
from tests.sandbox.vk.vk_schema import mismatches, object_schema, response_schema

API_VERSION = "5.199"
VK_HOSTS = ("https://api.vk.ru", "https://api.vk.com")


class ToFake(requests.Session):
    """Sends the requests vk_api addresses to VK's API host to the fake instead."""

    def __init__(self, fake_url: str) -> None:
        super().__init__()
        self.fake_url = fake_url

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str):
            for host in VK_HOSTS:
                if url.startswith(host + "/"):
                    url = self.fake_url + url[len(host) :]
        kwargs.setdefault("timeout", 10)
        return super().request(method, url, *args, **kwargs)


def group_api(fake: FakeVK, token: str = TOKEN) -> vk_api.VkApiGroup:
    """vk_api's class for a community token (20 calls a second), pointed at the fake."""
    return vk_api.VkApiGroup(token=token, api_version=API_VERSION, session=ToFake(fake.public_url))


@pytest.fixture
def vk(fake_vk: FakeVK) -> vk_api.VkApiGroup:
    return group_api(fake_vk)


@pytest.fixture
async def slow_fake() -> AsyncIterator[FakeVK]:
    """A fake VK that allows 3 calls a second (in real seconds)."""
    fake = FakeVK(group_id=GROUP_ID, token=TOKEN, requests_per_second=3)
    async with serving(fake.app) as running:
        fake.public_url = running.base_url
        yield fake


async def call(vk: vk_api.VkApi, method: str, **values: Any) -> Any:
    return await asyncio.to_thread(vk.method, method, values)


def no_mismatch(value: Any, schema: dict[str, Any]) -> None:
    assert mismatches(value, schema) == []


# ---- methods, through VkApi.method, checked against the schema ------------------------------


async def test_vk_api_sends_its_calls_to_vk_and_the_session_only_changes_the_host(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    await fake_vk.customer_message(5, "hello")
    message_id = await call(vk, "messages.send", peer_id=5, message="Hi!", random_id=1)
    no_mismatch({"response": message_id}, {"$ref": _send_deprecated()})
    [sent] = fake_vk.calls.calls("messages.send")
    assert sent.params["v"] == API_VERSION  # vk_api adds v and the token itself
    assert fake_vk.received(5)[0]["text"] == "Hi!"


def _send_deprecated() -> str:
    return "responses.json#/definitions/messages_send_deprecated_response"


async def test_a_message_with_an_uploaded_photo_and_document_reaches_the_customer(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    await fake_vk.customer_message(5, "send me the invoice")
    upload = VkUpload(vk)

    server = await call(vk, "photos.getMessagesUploadServer", peer_id=5)
    no_mismatch(server, response_schema("photos_getMessagesUploadServer_response"))
    picture = io.BytesIO(b"\x89PNG picture")
    picture.name = "picture.png"
    photos = await asyncio.to_thread(upload.photo_messages, picture, peer_id=5)
    no_mismatch(photos, response_schema("photos_saveMessagesPhoto_response"))

    doc_server = await call(vk, "docs.getMessagesUploadServer", peer_id=5, type="doc")
    no_mismatch(doc_server, response_schema("docs_getUploadServer_response"))
    document = io.BytesIO(b"%PDF-1.4 invoice")
    document.name = "invoice.pdf"
    saved = await asyncio.to_thread(upload.document_message, document, "invoice.pdf", peer_id=5)
    no_mismatch(saved, response_schema("docs_save_response"))

    photo, doc = photos[0], saved["doc"]
    attachment = ",".join(
        [
            f"photo{photo['owner_id']}_{photo['id']}_{photo['access_key']}",
            f"doc{doc['owner_id']}_{doc['id']}_{doc['access_key']}",
        ]
    )
    await call(vk, "messages.send", peer_id=5, attachment=attachment, random_id=2)
    [received] = fake_vk.received(5)
    assert [a["type"] for a in received["attachments"]] == ["photo", "doc"]
    assert received["attachments"][1]["doc"]["title"] == "invoice.pdf"
    sizes = received["attachments"][0]["photo"]["sizes"]
    got = await asyncio.to_thread(requests.get, sizes[0]["url"], timeout=10)
    assert got.content == b"\x89PNG picture"


async def test_a_voice_message_is_saved_as_audio_message(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    voice = io.BytesIO(b"OggS voice")
    voice.name = "voice.ogg"
    saved = await asyncio.to_thread(VkUpload(vk).audio_message, voice, peer_id=5)
    no_mismatch(saved, response_schema("docs_save_response"))
    assert saved["type"] == "audio_message"
    assert saved["audio_message"]["link_ogg"].startswith(fake_vk.public_url)


async def test_peer_ids_answers_one_item_per_peer_with_the_error_in_the_item(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    await fake_vk.customer_message(5, "hello")
    await fake_vk.customer_message(6, "hello")
    items = await call(vk, "messages.send", peer_ids="5,6,999", message="News", random_id=0)
    no_mismatch(items, response_schema("messages_send_user_ids_response"))
    assert [item["peer_id"] for item in items] == [5, 6, 999]
    assert [item.get("error", {}).get("code") for item in items] == [None, None, 901]
    assert items[0]["conversation_message_id"] == fake_vk.received(5)[0]["conversation_message_id"]
    assert [m["text"] for m in fake_vk.received(5) + fake_vk.received(6)] == ["News", "News"]


async def test_users_get_and_long_poll_server_and_confirmation_code_match_the_schema(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    fake_vk.add_user(1, "Ivan", "Petrov")
    fake_vk.add_user(2, "Old", "Account", deactivated="deleted")
    users = await call(vk, "users.get", user_ids="1,2", fields="photo_100,screen_name")
    no_mismatch(users, response_schema("users_get_response"))
    assert [u["id"] for u in users] == [1, 2]
    assert users[0]["first_name"] == "Ivan" and "deactivated" not in users[0]
    assert users[1]["deactivated"] == "deleted"

    server = await call(vk, "groups.getLongPollServer", group_id=GROUP_ID)
    no_mismatch(server, response_schema("groups_getLongPollServer_response"))
    code = await call(vk, "groups.getCallbackConfirmationCode", group_id=GROUP_ID)
    no_mismatch(code, response_schema("groups_getCallbackConfirmationCode_response"))
    assert code["code"] == fake_vk.state.confirmation_code


# ---- errors as vk_api's ApiError, and vk_api's own handling of error 6 ----------------------


async def test_vk_errors_reach_vk_api_as_api_error_with_vk_codes(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    fake_vk.add_user(7, "Gone", "User", deactivated="banned")

    async def error_of(client: vk_api.VkApi, method: str, **values: Any) -> ApiError:
        with pytest.raises(ApiError) as caught:
            await call(client, method, **values)
        return caught.value

    denied = await error_of(vk, "messages.send", peer_id=999, message="x", random_id=1)
    assert denied.code == 901 and denied.method == "messages.send"
    assert (await error_of(vk, "messages.send", peer_id=7, message="x", random_id=2)).code == 902
    missing = await error_of(vk, "messages.send", peer_id=5, message="x")
    assert missing.code == 100 and "random_id" in missing.error["error_msg"]
    bad_token = await error_of(group_api(fake_vk, "wrong-token"), "users.get", user_ids="1")
    assert bad_token.code == 5
    assert (await error_of(vk, "messages.noSuchMethod")).code == 3
    params = {p["key"]: p["value"] for p in denied.error["request_params"]}
    assert params["method"] == "messages.send" and "access_token" not in params


async def test_vk_api_waits_and_repeats_a_call_answered_with_error_6(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    await fake_vk.customer_message(5, "hello")
    fake_vk.faults.add("error", endpoint="messages.send", error={"code": 6})
    message_id = await call(vk, "messages.send", peer_id=5, message="after a pause", random_id=3)
    outcomes = [c.outcome for c in fake_vk.calls.calls("messages.send")]
    assert outcomes == ["error 6", "ok"]
    assert [m["id"] for m in fake_vk.received(5)] == [message_id]


# ---- Bots Long Poll, parsed by vk_api's event classes ----------------------------------------


def _next_events(longpoll: VkBotLongPoll, count: int) -> list[VkBotEvent]:
    events: list[VkBotEvent] = []
    for event in longpoll.listen():
        events.append(event)
        if len(events) == count:
            return events
    raise AssertionError("listen() ended")


async def test_listen_yields_message_events_with_the_message_object(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP_ID, wait=5)
    listening = asyncio.create_task(asyncio.to_thread(_next_events, longpoll, 4))
    await asyncio.sleep(0.1)  # the first a_check waits on the server
    message = await fake_vk.customer_message(5, "need help", attachments=["photo", "doc"])
    await fake_vk.customer_edits(5, message["id"], "need help, please")
    await fake_vk.customer_allows(6)
    await fake_vk.customer_denies(6)
    new, edit, allow, deny = await asyncio.wait_for(listening, timeout=10)

    assert isinstance(new, VkBotMessageEvent) and new.type == VkBotEventType.MESSAGE_NEW
    assert new.from_user and not new.from_chat and new.group_id == GROUP_ID
    assert new.obj.message["id"] == message["id"]
    assert new.message.peer_id == new.message.from_id == 5
    assert new.message.text == "need help"
    assert [a["type"] for a in new.message.attachments] == ["photo", "doc"]
    assert new.client_info.keyboard is True
    no_mismatch(new.raw, object_schema("callback_base"))
    no_mismatch(new.raw["object"], object_schema("callback_message_object"))

    assert isinstance(edit, VkBotMessageEvent) and edit.type == VkBotEventType.MESSAGE_EDIT
    assert edit.obj.text == "need help, please" and edit.obj.id == message["id"]
    assert edit.from_user
    no_mismatch(edit.raw["object"], object_schema("messages_message"))

    assert type(allow) is VkBotEvent and allow.type == VkBotEventType.MESSAGE_ALLOW
    assert allow.obj.user_id == 6
    no_mismatch(allow.raw["object"], object_schema("callback_message_allow"))
    assert deny.type == VkBotEventType.MESSAGE_DENY and deny.obj.user_id == 6
    no_mismatch(deny.raw["object"], object_schema("callback_message_deny"))


async def test_failed_1_keeps_the_key_and_takes_the_new_ts(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP_ID, wait=1)
    key = longpoll.key
    fake_vk.longpoll.force_failure(1)
    assert await asyncio.to_thread(longpoll.check) == []
    assert longpoll.key == key
    await fake_vk.customer_message(5, "after failed 1")
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.message.text == "after failed 1"


async def test_failed_3_fetches_a_new_key_and_ts(fake_vk: FakeVK, vk: vk_api.VkApiGroup) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP_ID, wait=1)
    key = longpoll.key
    fake_vk.longpoll.force_failure(3)
    assert await asyncio.to_thread(longpoll.check) == []
    assert longpoll.key != key
    assert [c.name for c in fake_vk.calls.calls("groups.getLongPollServer")] == [
        "groups.getLongPollServer"
    ] * 2
    await fake_vk.customer_message(5, "after failed 3")
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.message.text == "after failed 3"


async def test_a_stale_ts_is_answered_failed_1_and_vk_api_catches_up(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP_ID, wait=1)
    longpoll.ts = "999999"  # ahead of the server: VK answers failed 1 with the ts to use
    assert await asyncio.to_thread(longpoll.check) == []
    await fake_vk.customer_message(5, "caught up")
    [event] = await asyncio.to_thread(longpoll.check)
    assert event.message.text == "caught up"


async def test_vk_api_rides_out_the_fakes_own_rate_limit_with_its_error_6_handler(
    slow_fake: FakeVK,
) -> None:
    fake = slow_fake
    await fake.customer_message(5, "hello")
    vk = group_api(fake)
    vk.RPS_DELAY = 0  # pace nothing, so the fake's 3 calls a second are exceeded
    for n in range(5):
        await call(vk, "messages.send", peer_id=5, message=f"#{n}", random_id=100 + n)
    assert [m["text"] for m in fake.received(5)] == [f"#{n}" for n in range(5)]
    outcomes = [c.outcome for c in fake.calls.calls("messages.send")]
    assert "error 6" in outcomes and outcomes.count("ok") == 5


# ---- Callback API, configured through vk_api, bodies parsed by vk_api's event classes -------


async def test_a_callback_server_added_with_vk_api_gets_events_vk_api_can_parse(
    fake_vk: FakeVK, vk: vk_api.VkApiGroup
) -> None:
    code = await call(vk, "groups.getCallbackConfirmationCode", group_id=GROUP_ID)
    bodies: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        if body["type"] == "confirmation":
            return web.Response(text=code["code"])
        bodies.append(body)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/callback", handle)
    async with serving(app) as running:
        added = await call(
            vk,
            "groups.addCallbackServer",
            group_id=GROUP_ID,
            url=f"{running.base_url}/callback",
            title="bridge",
            secret_key="s3cret",
        )
        no_mismatch(added, response_schema("groups_addCallbackServer_response"))
        done = await call(
            vk,
            "groups.setCallbackSettings",
            group_id=GROUP_ID,
            server_id=added["server_id"],
            api_version=API_VERSION,
            message_new=1,
            message_reply=0,
        )
        no_mismatch(done, response_schema("base_ok_response"))
        for _ in range(100):  # VK confirms the server by calling it
            servers = await call(vk, "groups.getCallbackServers", group_id=GROUP_ID)
            if servers["items"][0]["status"] == "ok":
                break
            await asyncio.sleep(0.05)
        no_mismatch(servers, response_schema("groups_getCallbackServers_response"))
        assert servers["items"][0]["status"] == "ok"

        await fake_vk.customer_message(5, "via callback")
        for _ in range(100):
            if bodies:
                break
            await asyncio.sleep(0.05)
    [body] = bodies
    no_mismatch(body, object_schema("callback_base"))
    assert body["secret"] == "s3cret"
    event = VkBotLongPoll.CLASS_BY_EVENT_TYPE[body["type"]](body)
    assert isinstance(event, VkBotMessageEvent) and event.type == VkBotEventType.MESSAGE_NEW
    assert event.message.text == "via callback" and event.from_user
