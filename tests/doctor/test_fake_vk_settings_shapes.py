"""The fake VK answers the settings methods the doctor reads as VK's JSON Schema 5.199 says."""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from sandbox.runner import serving
from sandbox.vk import FakeVK
from tests.sandbox.vk.vk_schema import mismatches, response_schema

TOKEN = "vk1.a.shapes"


async def call(base: str, method: str, **params: Any) -> Any:
    data = {"access_token": TOKEN, "v": "5.199", **params}
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base}/method/{method}", data=data) as response:
            body = await response.json()
    assert "response" in body, body
    return body["response"]


async def test_settings_answers_match_the_schema() -> None:
    vk = FakeVK(group_id=5, token=TOKEN)
    root = web.Application()
    root.add_subapp("/vk", vk.app)
    async with serving(root) as running:
        base = running.base_url + "/vk"
        server = await call(
            base, "groups.addCallbackServer", group_id=5, url="http://127.0.0.1:9/x", title="t"
        )
        answers = {
            "groups_getTokenPermissions_response": await call(base, "groups.getTokenPermissions"),
            "groups_getLongPollSettings_response": await call(
                base, "groups.getLongPollSettings", group_id=5
            ),
            "groups_getCallbackSettings_response": await call(
                base, "groups.getCallbackSettings", group_id=5, server_id=server["server_id"]
            ),
            "groups_getById_object_response": await call(
                base, "groups.getById", group_id=5, fields="can_message"
            ),
        }
    for name, answer in answers.items():
        assert mismatches(answer, response_schema(name)) == [], name
    assert answers["groups_getById_object_response"]["groups"][0]["can_message"] == 1


async def test_long_poll_settings_set_are_read_back() -> None:
    vk = FakeVK(group_id=5, token=TOKEN)
    root = web.Application()
    root.add_subapp("/vk", vk.app)
    async with serving(root) as running:
        base = running.base_url + "/vk"
        await call(base, "groups.setLongPollSettings", group_id=5, enabled=0, message_edit=0)
        settings = await call(base, "groups.getLongPollSettings", group_id=5)
    assert settings["is_enabled"] is False
    assert settings["events"]["message_edit"] == 0
    assert settings["events"]["message_new"] == 1
