"""The doctor's VK checks: the community token's rights, messages, and how updates arrive."""

from __future__ import annotations

from typing import Any

import aiohttp

from adapters.vk.callback import PATH
from adapters.vk.client import API_VERSION
from adapters.vk.registration import EVENTS
from adapters.vk.settings import VkSettings
from app.doctor.findings import Findings
from app.doctor.http import CallFailed, call_json

MANAGE = "community → Manage → Settings → API usage"


class VkError(Exception):
    """A VK method answered with an error (or not at all)."""


class VkApi:
    """VK methods by name with the community token; `response` returned, errors raised."""

    def __init__(self, session: aiohttp.ClientSession, settings: VkSettings) -> None:
        self._session = session
        self._base = str(settings.api_url).rstrip("/") + "/method/"
        self._token = settings.token

    async def __call__(self, method: str, **params: Any) -> Any:
        data = {"access_token": self._token, "v": API_VERSION, **params}
        try:
            _, body = await call_json(self._session, "POST", self._base + method, data=data)
        except CallFailed as exc:
            raise VkError(f"{method}: {exc}") from exc
        if not isinstance(body, dict) or "response" not in body:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise VkError(f"{method}: {error.get('error_msg', body)}")
        return body["response"]


async def check_vk(settings: VkSettings, public_url: str | None, findings: Findings) -> None:
    """Every VK check; a token VK refuses stops the rest."""
    async with aiohttp.ClientSession() as session:
        vk = VkApi(session, settings)
        try:
            rights = await vk("groups.getTokenPermissions")
        except VkError as exc:
            findings.bad(
                f"VK: the token does not work ({exc})",
                f"{MANAGE} → Access tokens → Create token (allow messages), put it in "
                "channels.vk.token",
            )
            return
        names = {item.get("name") for item in rights.get("permissions", [])}
        if "messages" in names:
            findings.good("VK: the token may use the community's messages")
        else:
            findings.bad(
                "VK: the token has no access to the community's messages",
                f'{MANAGE} → Access tokens → Create token with "Allow access to community '
                'messages", put it in channels.vk.token',
            )
        await _check_messages_on(vk, settings, findings)
        if settings.updates == "longpoll":
            await _check_long_poll(vk, settings, findings)
        else:
            await _check_callback(vk, settings, public_url, findings)


async def _check_messages_on(vk: VkApi, settings: VkSettings, findings: Findings) -> None:
    try:
        answer = await vk("groups.getById", group_id=settings.group_id, fields="can_message")
        group = answer["groups"][0]
    except (VkError, KeyError, IndexError) as exc:
        findings.bad(
            f"VK: community {settings.group_id} not found ({exc})",
            "set channels.vk.group_id to the community's id (the token's community)",
        )
        return
    if group.get("can_message"):
        findings.good(f"VK: community messages are on ({group.get('name')})")
    else:
        findings.bad(
            "VK: community messages are off",
            "community → Manage → Messages → Community messages: Enabled",
        )


def _missing(events: dict[str, Any]) -> list[str]:
    return [name for name in EVENTS if not events.get(name)]


async def _check_long_poll(vk: VkApi, settings: VkSettings, findings: Findings) -> None:
    try:
        poll = await vk("groups.getLongPollSettings", group_id=settings.group_id)
    except VkError as exc:
        findings.bad(f"VK: Long Poll settings unreadable ({exc})", "give the token manage rights")
        return
    if not poll.get("is_enabled"):
        findings.bad(
            "VK: updates: longpoll, but Bots Long Poll API is off",
            f"{MANAGE} → Long Poll API → Enabled, API version {API_VERSION}",
        )
        return
    missing = _missing(poll.get("events", {}))
    if missing:
        findings.bad(
            f"VK: Long Poll events off: {', '.join(missing)}",
            f"{MANAGE} → Long Poll API → Event types → turn on {', '.join(missing)}",
        )
    else:
        findings.good("VK: Bots Long Poll API is on with the events the bridge needs")


async def _check_callback(
    vk: VkApi, settings: VkSettings, public_url: str | None, findings: Findings
) -> None:
    if public_url is None:
        findings.bad(
            "VK: updates: callback, but http.public_url is not set",
            "set http.public_url to the bridge's public https address",
        )
        return
    url = public_url.rstrip("/") + PATH
    try:
        servers = await vk("groups.getCallbackServers", group_id=settings.group_id)
    except VkError as exc:
        findings.bad(
            f"VK: Callback API servers unreadable ({exc})", "give the token manage rights"
        )
        return
    ours = [s for s in servers.get("items", []) if s.get("url") == url]
    if not ours:
        findings.bad(
            f"VK: updates: callback, but no Callback API server is {url}",
            "run `talker-bridge set-webhooks` while the bridge is running",
        )
        return
    server = ours[0]
    if server.get("status") != "ok":
        findings.bad(
            f"VK: the Callback API server {url} is {server.get('status')}",
            "run `talker-bridge set-webhooks` while the bridge is running and reachable",
        )
    else:
        findings.good(f"VK: Callback API server {url} is confirmed")
    callback = await vk(
        "groups.getCallbackSettings", group_id=settings.group_id, server_id=server["id"]
    )
    missing = _missing(callback.get("events", {}))
    if missing:
        findings.bad(
            f"VK: Callback API events off: {', '.join(missing)}",
            f"{MANAGE} → Callback API → Event types → turn on {', '.join(missing)}",
        )
    else:
        findings.good("VK: Callback API events the bridge needs are on")
