"""vk_api works against the fake VK unchanged but for the base URL (VkApiSession)."""

from __future__ import annotations

import asyncio
import io

import pytest
import vk_api
from vk_api.bot_longpoll import VkBotEventType, VkBotLongPoll
from vk_api.upload import VkUpload

from sandbox.vk import FakeVK
from tests.sandbox.vk.conftest import GROUP_ID


async def test_messages_send_reaches_the_customer(fake_vk: FakeVK, vk: vk_api.VkApi) -> None:
    await fake_vk.customer_message(5, "hello")
    api = vk.get_api()
    message_id = await asyncio.to_thread(api.messages.send, peer_id=5, message="Hi!", random_id=11)
    [received] = fake_vk.received(5)
    assert received["id"] == message_id
    assert received["text"] == "Hi!"
    assert received["from_id"] == -GROUP_ID


async def test_same_random_id_sends_one_message_and_returns_its_id(
    fake_vk: FakeVK, vk: vk_api.VkApi
) -> None:
    await fake_vk.customer_message(5, "hello")
    api = vk.get_api()
    first = await asyncio.to_thread(api.messages.send, peer_id=5, message="Once", random_id=42)
    again = await asyncio.to_thread(api.messages.send, peer_id=5, message="Once", random_id=42)
    other = await asyncio.to_thread(api.messages.send, peer_id=5, message="Twice", random_id=43)
    assert again == first
    assert other != first
    assert [m["text"] for m in fake_vk.received(5)] == ["Once", "Twice"]


async def test_users_get_returns_names_and_marks_deactivated_users(
    fake_vk: FakeVK, vk: vk_api.VkApi
) -> None:
    fake_vk.add_user(1, "Ivan", "Petrov")
    fake_vk.add_user(2, "Old", "Account", deactivated="deleted")
    fake_vk.add_user(3, "Bad", "Actor", deactivated="banned")
    api = vk.get_api()
    users = await asyncio.to_thread(api.users.get, user_ids="1,2,3", fields="photo_100")
    assert users[0]["first_name"] == "Ivan" and users[0]["last_name"] == "Petrov"
    assert users[0]["photo_100"].startswith(fake_vk.public_url)
    assert "deactivated" not in users[0]
    assert users[1]["deactivated"] == "deleted" and users[1]["first_name"] == "DELETED"
    assert users[2]["deactivated"] == "banned"


async def test_vk_api_errors_carry_vk_codes(fake_vk: FakeVK, vk: vk_api.VkApi) -> None:
    api = vk.get_api()
    with pytest.raises(vk_api.ApiError) as caught:
        await asyncio.to_thread(api.messages.send, peer_id=999, message="x", random_id=1)
    assert caught.value.code == 901


async def test_bot_longpoll_receives_message_new_and_edit(
    fake_vk: FakeVK, vk: vk_api.VkApi
) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP_ID, wait=25)
    assert longpoll.server.startswith(fake_vk.public_url)
    pending = asyncio.create_task(asyncio.to_thread(longpoll.check))
    await asyncio.sleep(0.1)  # the poll is waiting on the server
    message = await fake_vk.customer_message(5, "need help", attachments=["photo"])
    events = await asyncio.wait_for(pending, timeout=5)
    assert [e.type for e in events] == [VkBotEventType.MESSAGE_NEW]
    assert events[0].message["text"] == "need help"
    assert events[0].message["attachments"][0]["type"] == "photo"
    assert events[0].obj.client_info["keyboard"] is True

    await fake_vk.customer_edits(5, message["id"], "need help, please")
    [edit] = await asyncio.to_thread(longpoll.check)
    assert edit.type == VkBotEventType.MESSAGE_EDIT
    assert edit.obj["text"] == "need help, please"


async def test_bot_longpoll_recovers_from_expired_key(fake_vk: FakeVK, vk: vk_api.VkApi) -> None:
    longpoll = await asyncio.to_thread(VkBotLongPoll, vk, GROUP_ID, wait=1)
    old_key = longpoll.key
    fake_vk.longpoll.force_failure(2)
    assert await asyncio.to_thread(longpoll.check) == []
    assert longpoll.key != old_key
    await fake_vk.customer_message(6, "after new key")
    events = await asyncio.to_thread(longpoll.check)
    assert [e.message["text"] for e in events] == ["after new key"]


async def test_vk_upload_photo_then_send_as_attachment(fake_vk: FakeVK, vk: vk_api.VkApi) -> None:
    await fake_vk.customer_message(5, "send me the picture")
    upload = VkUpload(vk)
    picture = io.BytesIO(b"\x89PNG fake picture bytes")
    picture.name = "picture.png"
    [photo] = await asyncio.to_thread(upload.photo_messages, picture, peer_id=5)
    attachment = f"photo{photo['owner_id']}_{photo['id']}_{photo['access_key']}"
    api = vk.get_api()
    await asyncio.to_thread(
        api.messages.send, peer_id=5, attachment=attachment, random_id=7, message=""
    )
    [received] = fake_vk.received(5)
    assert received["attachments"][0]["type"] == "photo"
    url = received["attachments"][0]["photo"]["sizes"][0]["url"]
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert await response.read() == b"\x89PNG fake picture bytes"


async def test_vk_upload_document_for_a_message(fake_vk: FakeVK, vk: vk_api.VkApi) -> None:
    upload = VkUpload(vk)
    document = io.BytesIO(b"%PDF-1.4 invoice")
    document.name = "invoice.pdf"
    saved = await asyncio.to_thread(
        upload.document_message, document, title="invoice.pdf", peer_id=5
    )
    assert saved["type"] == "doc"
    assert saved["doc"]["title"] == "invoice.pdf"
    assert saved["doc"]["size"] == len(b"%PDF-1.4 invoice")
