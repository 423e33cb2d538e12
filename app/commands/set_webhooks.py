"""`talker-bridge set-webhooks -c FILE`: point every platform at the bridge's public address.

Run it once the bridge is running and reachable at `http.public_url` (Viber and VK call the URL
to check it before they accept it). It registers:
- Telegram `setWebhook` (with the secret token) when `telegram.updates: webhook`;
- Viber `set_webhook` with the events the bridge uses;
- VK's Callback API server (added, or updated when one with the same URL exists), after
  checking that `channels.vk.confirmation` is the community's confirmation code;
and prints the Facebook callback URL and verify token to paste into Meta's console (Meta has no
API for that step). Exit 0 when everything took, 1 when a platform refused, 2 for a bad config.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config import BridgeConfig

DEFAULT_CONFIG = "config.yaml"
VK_SERVER_TITLE = "talker-bridge"
VK_EVENTS = ("message_new", "message_edit", "message_allow", "message_deny")


@dataclass
class WebhookReport:
    """What was registered, line by line; `ok` is False when any platform refused."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def good(self, line: str) -> None:
        self.lines.append(f"OK    {line}")

    def bad(self, line: str) -> None:
        self.lines.append(f"FAIL  {line}")
        self.ok = False

    def note(self, line: str) -> None:
        self.lines.append(f"      {line}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "set-webhooks",
        help="register the bridge's webhook URLs with Telegram, Viber and VK",
        description="Register http.public_url/webhooks/... with Telegram (updates: webhook), "
        "Viber and VK's Callback API, and print what to paste into Meta's console for "
        "Facebook. Run it while the bridge is running and reachable at http.public_url.",
    )
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, metavar="FILE")
    parser.set_defaults(func=set_webhooks)


def set_webhooks(args: argparse.Namespace) -> int:
    """The command: load the config, register, print the report."""
    import asyncio

    from config import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if config.http.public_url is None:
        print(
            f"set-webhooks: http.public_url is not set in {config.source}; platforms need the "
            "bridge's public https address (e.g. https://support.example.com)",
            file=sys.stderr,
        )
        return 2
    report = asyncio.run(register_webhooks(config))
    for line in report.lines:
        print(line)
    return 0 if report.ok else 1


def public_base(config: BridgeConfig) -> str:
    if config.http.public_url is None:
        raise ValueError("http.public_url is not set")
    return str(config.http.public_url).rstrip("/")


async def register_webhooks(config: BridgeConfig) -> WebhookReport:
    """Register every webhook `config` needs; never raises for a platform's refusal."""
    report = WebhookReport()
    base = public_base(config)
    await _telegram(config, base, report)
    if config.channels.viber is not None:
        await _viber(config, base, report)
    if config.channels.vk is not None:
        await _vk(config, base, report)
    if config.channels.facebook is not None:
        facebook = config.channels.facebook
        report.good("Facebook: in Meta's console (Messenger → Webhooks) paste:")
        report.note(f"Callback URL: {base}/webhooks/facebook")
        report.note(f"Verify token: {facebook.verify_token}")
        report.note(
            "and subscribe the Page to: messages, messaging_postbacks, "
            "message_deliveries, message_reads"
        )
    return report


async def _telegram(config: BridgeConfig, base: str, report: WebhookReport) -> None:
    from botapi.sender import make_bot, map_error
    from botapi.updates import ALLOWED_UPDATES, WEBHOOK_PATH

    telegram = config.telegram
    if telegram.updates != "webhook":
        report.good("Telegram: updates: polling — no webhook (run removes any old one)")
        return
    if not telegram.webhook_secret:
        report.bad("Telegram: updates: webhook needs telegram.webhook_secret")
        return
    bot = make_bot(telegram.token, str(telegram.api_url))
    url = base + WEBHOOK_PATH
    try:
        await bot.set_webhook(
            url, secret_token=telegram.webhook_secret, allowed_updates=ALLOWED_UPDATES
        )
    except Exception as exc:
        report.bad(f"Telegram: setWebhook {url} refused: {map_error(exc) or exc}")
    else:
        report.good(f"Telegram: webhook {url}")
    finally:
        await bot.session.close()


async def _viber(config: BridgeConfig, base: str, report: WebhookReport) -> None:
    from adapters.common.http import client_session
    from adapters.viber.adapter import EVENT_TYPES
    from adapters.viber.callback import PATH
    from adapters.viber.client import ViberApi
    from bridge.errors import BridgeError

    viber = config.channels.viber
    assert viber is not None
    url = base + PATH
    async with client_session() as http:
        api = ViberApi(str(viber.api_url), viber.token, lambda: http)
        try:
            await api.call(
                "set_webhook", {"url": url, "event_types": EVENT_TYPES, "send_name": True}
            )
        except BridgeError as exc:
            report.bad(f"Viber: set_webhook {url} refused: {exc} (is the bridge running?)")
            return
    report.good(f"Viber: webhook {url}")


async def _vk(config: BridgeConfig, base: str, report: WebhookReport) -> None:
    import asyncio

    from adapters.vk.callback import PATH
    from adapters.vk.client import API_VERSION, VkClient
    from bridge.errors import BridgeError

    vk = config.channels.vk
    assert vk is not None
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
        params = {"group_id": vk.group_id, "url": url, "title": VK_SERVER_TITLE}
        if same:
            server_id = same[0]["id"]
            await client.call(
                "groups.editCallbackServer", server_id=server_id, secret_key=vk.secret, **params
            )
        else:
            added = await client.call("groups.addCallbackServer", secret_key=vk.secret, **params)
            server_id = added["server_id"]
        events = dict.fromkeys(VK_EVENTS, 1)
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
