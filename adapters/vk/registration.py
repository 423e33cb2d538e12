"""`set-webhooks` for VK: the community's Callback API server, when `updates: callback`.

The server is added, or updated when one with the same URL exists, after checking that
`channels.vk.confirmation` is the community's confirmation code.
"""

from __future__ import annotations

import asyncio

from adapters.vk.callback import PATH
from adapters.vk.client import API_VERSION, VkClient
from adapters.vk.settings import VkSettings
from bridge.errors import BridgeError
from bridge.platforms import WebhookReport

SERVER_TITLE = "talker-bridge"
EVENTS = ("message_new", "message_edit", "message_allow", "message_deny")


async def register_webhook(section: VkSettings, base: str, report: WebhookReport) -> None:
    """Register `base` + /webhooks/vk as the community's Callback API server."""
    vk = section
    if vk.updates != "callback":
        report.good("VK: updates: longpoll — no callback server needed")
        return
    url = base + PATH
    client = VkClient(vk.token, str(vk.api_url), timeout=15)
    try:
        answer = await client.call("groups.getCallbackConfirmationCode", group_id=vk.group_id)
        code = str(answer.get("code", ""))
        if code != vk.confirmation:
            report.bad(
                f"VK: the community's confirmation code is {code!r}; set "
                f"channels.vk.confirmation to it, restart the bridge, run set-webhooks again"
            )
            return
        servers = await client.call("groups.getCallbackServers", group_id=vk.group_id)
        same = [s for s in servers.get("items", []) if s.get("url") == url]
        params = {"group_id": vk.group_id, "url": url, "title": SERVER_TITLE}
        if same:
            server_id = same[0]["id"]
            await client.call(
                "groups.editCallbackServer", server_id=server_id, secret_key=vk.secret, **params
            )
        else:
            added = await client.call("groups.addCallbackServer", secret_key=vk.secret, **params)
            server_id = added["server_id"]
        events = dict.fromkeys(EVENTS, 1)
        await client.call(
            "groups.setCallbackSettings",
            group_id=vk.group_id,
            server_id=server_id,
            api_version=API_VERSION,
            **events,
        )
    except BridgeError as exc:
        report.bad(f"VK: Callback API server {url} not registered: {exc}")
        return
    finally:
        await asyncio.to_thread(client.close)
    report.good(f"VK: Callback API server {url} (VK confirms it by calling the bridge)")
