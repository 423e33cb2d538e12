"""The fake VK rejects what VK rejects, with VK's codes, messages and error envelope."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from sandbox.vk import FakeVK
from tests.sandbox.vk.conftest import TOKEN

OK = {"access_token": TOKEN, "v": "5.199"}

CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("unknown method", "messages.sendd", {**OK}, 3, "Unknown method passed"),
    ("no token", "users.get", {"v": "5.199", "user_ids": "1"}, 5, "no access_token passed"),
    (
        "wrong token",
        "users.get",
        {"access_token": "nope", "v": "5.199"},
        5,
        "invalid access_token",
    ),
    ("no version", "users.get", {"access_token": TOKEN}, 8, "v (version) is required"),
    (
        "user-only method with a group token",
        "account.getInfo",
        {**OK},
        27,
        "Group authorization failed",
    ),
    (
        "missing required parameter",
        "groups.getLongPollServer",
        {**OK},
        100,
        "group_id is missing or invalid",
    ),
    (
        "integer parameter that is not a number",
        "groups.getLongPollServer",
        {**OK, "group_id": "abc"},
        100,
        "group_id not integer",
    ),
    (
        "below the schema minimum",
        "groups.getCallbackConfirmationCode",
        {**OK, "group_id": "0"},
        100,
        "group_id should be greater or equal to 1",
    ),
    (
        "send without random_id",
        "messages.send",
        {**OK, "peer_id": "5", "message": "hi"},
        100,
        "random_id is a required parameter",
    ),
    (
        "send with neither text nor attachment",
        "messages.send",
        {**OK, "peer_id": "5", "random_id": "1"},
        100,
        "message is empty or invalid",
    ),
    (
        "message over 9000 characters",
        "messages.send",
        {**OK, "peer_id": "5", "random_id": "1", "message": "x" * 9001},
        914,
        "Message is too long",
    ),
    (
        "malformed attachment",
        "messages.send",
        {**OK, "peer_id": "5", "random_id": "1", "attachment": "picture_1"},
        100,
        "attachment is invalid",
    ),
    (
        "attachment that was never uploaded",
        "messages.send",
        {**OK, "peer_id": "5", "random_id": "1", "attachment": "photo-77_123456"},
        100,
        "does not exist",
    ),
    (
        "user who never wrote to the community",
        "messages.send",
        {**OK, "peer_id": "404", "random_id": "1", "message": "hi"},
        901,
        "Can't send messages for users without permission",
    ),
    (
        "more than 100 peer_ids",
        "messages.send",
        {**OK, "peer_ids": ",".join(map(str, range(1, 102))), "random_id": "0", "message": "x"},
        100,
        "peer_ids is too long",
    ),
    (
        "another community's long poll",
        "groups.getLongPollServer",
        {**OK, "group_id": "12345"},
        15,
        "Access denied",
    ),
]


@pytest.mark.parametrize(
    ("method", "params", "code", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_fake_vk_rejects_like_vk(
    fake_vk: FakeVK, method: str, params: dict[str, Any], code: int, message: str
) -> None:
    await fake_vk.customer_message(5, "so that messages to 5 are allowed")
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake_vk.public_url}/method/{method}", data=params) as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert "response" not in body
    error = body["error"]
    assert error["error_code"] == code
    assert message in error["error_msg"]
    shown = {p["key"]: p["value"] for p in error["request_params"]}
    assert shown["method"] == method
    assert "access_token" not in shown
    assert fake_vk.calls.calls(method)[-1].outcome == f"error {code}"


async def test_deactivated_user_cannot_be_messaged(fake_vk: FakeVK) -> None:
    await fake_vk.customer_message(9, "hi")
    fake_vk.add_user(9, "Gone", "User", deactivated="deleted")
    params = {**OK, "peer_id": "9", "random_id": "1", "message": "hi"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake_vk.public_url}/method/messages.send", data=params) as response,
    ):
        body = await response.json()
    assert body["error"]["error_code"] == 902


async def test_user_who_denied_messages_cannot_be_messaged_until_allowing(
    fake_vk: FakeVK,
) -> None:
    await fake_vk.customer_message(9, "hi")
    await fake_vk.customer_denies(9)
    url = f"{fake_vk.public_url}/method/messages.send"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, data={**OK, "peer_id": "9", "random_id": "1", "message": "a"}
        ) as r:
            assert (await r.json())["error"]["error_code"] == 901
        await fake_vk.customer_allows(9)
        async with session.post(
            url, data={**OK, "peer_id": "9", "random_id": "2", "message": "b"}
        ) as r:
            assert isinstance((await r.json())["response"], int)
    assert [m["text"] for m in fake_vk.received(9)] == ["b"]
