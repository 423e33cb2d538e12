"""`talker-bridge doctor` against the fake VK: each community setting it needs, or the fix."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from sandbox.runner import serving
from tests.doctor.fakes import Fakes, doctor_of, failures, running_fakes

MANAGE = "community → Manage → Settings → API usage"


@asynccontextmanager
async def bridge_confirming_vk(fakes: Fakes) -> AsyncIterator[str]:
    """A stand-in for the bridge at http.public_url that answers VK's confirmation request."""

    async def confirm(request: web.Request) -> web.Response:
        return web.Response(text=fakes.vk.state.confirmation_code)

    app = web.Application()
    app.router.add_post("/webhooks/vk", confirm)
    port = urlsplit(fakes.public_url).port
    assert port is not None
    async with serving(app, port=port):
        yield fakes.public_url + "/webhooks/vk"


async def test_a_token_vk_refuses_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.vk_token = "vk1.a.someone-elses"
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  VK: the token does not work (groups.getTokenPermissions: User authorization "
        f"failed: invalid access_token (4).) — fix: {MANAGE} → Access tokens → Create token "
        "(allow messages), put it in channels.vk.token"
    ]


async def test_a_token_without_messages_access_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.vk.state.settings.token_rights = {"photos", "docs"}
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  VK: the token has no access to the community's messages — fix: "
        f'{MANAGE} → Access tokens → Create token with "Allow access to community messages", '
        "put it in channels.vk.token"
    ]


async def test_community_messages_off_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.vk.state.settings.messages_enabled = False
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  VK: community messages are off — fix: community → Manage → Messages → "
        "Community messages: Enabled"
    ]


async def test_long_poll_off_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.vk.state.settings.long_poll_enabled = False
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  VK: updates: longpoll, but Bots Long Poll API is off — fix: "
        f"{MANAGE} → Long Poll API → Enabled, API version 5.199"
    ]


async def test_long_poll_events_the_bridge_needs_are_named(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        events = fakes.vk.state.settings.long_poll_events
        events["message_edit"] = events["message_deny"] = False
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  VK: Long Poll events off: message_edit, message_deny — fix: "
        f"{MANAGE} → Long Poll API → Event types → turn on message_edit, message_deny"
    ]


async def test_a_confirmed_callback_server_with_its_events_passes(tmp_path: Path) -> None:
    async with running_fakes() as fakes, bridge_confirming_vk(fakes) as url:
        fakes.vk_updates = "callback"
        assert await fakes.vk.set_callback(url, "doctor-vk-secret")
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 0, lines
    assert f"OK    VK: Callback API server {url} is confirmed" in lines
    assert "OK    VK: Callback API events the bridge needs are on" in lines


async def test_callback_without_our_server_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.vk_updates = "callback"
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  VK: updates: callback, but no Callback API server is {fakes.public_url}"
        "/webhooks/vk — fix: run `talker-bridge set-webhooks` while the bridge is running"
    ]


async def test_callback_events_off_are_named(tmp_path: Path) -> None:
    async with running_fakes() as fakes, bridge_confirming_vk(fakes) as url:
        fakes.vk_updates = "callback"
        assert await fakes.vk.set_callback(url, "doctor-vk-secret")
        for server in fakes.vk.state.callback_servers.values():
            server.events["message_allow"] = False
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  VK: Callback API events off: message_allow — fix: "
        f"{MANAGE} → Callback API → Event types → turn on message_allow"
    ]
