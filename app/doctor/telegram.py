"""The doctor's Telegram checks: the bot's token, privacy, rights in each group, updates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp

from app.doctor.findings import Findings
from app.doctor.http import CallFailed, call_json

if TYPE_CHECKING:
    from config import BridgeConfig, GroupConfig

#: The administrator rights the bridge uses in an operators' group.
NEEDED_RIGHTS = (
    ("can_manage_topics", "Manage topics"),
    ("can_pin_messages", "Pin messages"),
    ("can_delete_messages", "Delete messages"),
)
#: More updates than this waiting for the bridge means it is not taking them.
MAX_PENDING_UPDATES = 100
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted")


class TelegramError(Exception):
    """A Bot API call answered ok: false (or not at all)."""


class Unreachable(TelegramError):
    """No answer from telegram.api_url at all (refused, timed out, not JSON)."""


class BotApi:
    """Bot API calls by name, with `result` returned and errors raised as `TelegramError`."""

    def __init__(self, session: aiohttp.ClientSession, api_url: str, token: str) -> None:
        self._session = session
        self._base = f"{api_url.rstrip('/')}/bot{token}/"

    async def __call__(self, method: str, **params: Any) -> Any:
        try:
            _, body = await call_json(self._session, "POST", self._base + method, json=params)
        except CallFailed as exc:
            raise Unreachable(f"{method}: {exc}") from exc
        if not isinstance(body, dict) or not body.get("ok"):
            description = body.get("description") if isinstance(body, dict) else body
            raise TelegramError(f"{method}: {description}")
        return body["result"]


async def check_telegram(config: BridgeConfig, findings: Findings) -> None:
    """Every Telegram check; a bad token stops the rest (they would all fail the same way)."""
    telegram = config.telegram
    async with aiohttp.ClientSession() as session:
        bot = BotApi(session, str(telegram.api_url), telegram.token)
        try:
            me = await bot("getMe")
        except Unreachable as exc:
            findings.bad(
                f"Telegram: no answer from {telegram.api_url} ({exc})",
                "check telegram.api_url and that this machine reaches it (proxy, firewall)",
            )
            return
        except TelegramError as exc:
            findings.bad(
                f"Telegram: the token does not work ({exc})",
                "copy the bot's token from @BotFather into telegram.token",
            )
            return
        name = f"@{me.get('username')}"
        findings.good(f"Telegram: token works ({name})")
        if me.get("can_read_all_group_messages"):
            findings.good("Telegram: privacy mode is off")
        else:
            findings.bad(
                f"Telegram: privacy mode is on, {name} sees only commands and replies to it",
                f"@BotFather → /setprivacy → {name} → Disable, then remove the bot from each "
                "group and add it again",
            )
        for group in config.groups.values():
            await _check_group(bot, me, group, findings)
        await _check_updates(bot, config, findings)


async def _check_group(
    bot: BotApi, me: dict[str, Any], group: GroupConfig, findings: Findings
) -> None:
    name = f"@{me.get('username')}"
    label = f"Telegram: group {group.name} ({group.chat_id})"
    try:
        chat = await bot("getChat", chat_id=group.chat_id)
        member = await bot("getChatMember", chat_id=group.chat_id, user_id=me["id"])
    except TelegramError as exc:
        findings.bad(
            f"{label}: the bot cannot see the group ({exc})",
            f"add {name} to the group, or correct groups.{group.name}.chat_id",
        )
        return
    status = member.get("status")
    if status == "creator":
        findings.good(f"{label}: the bot is the group's owner")
    elif status != "administrator":
        findings.bad(
            f"{label}: the bot is not an administrator (status {status})",
            f"make {name} an administrator with the rights "
            + ", ".join(title for _, title in NEEDED_RIGHTS),
        )
    else:
        missing = [title for right, title in NEEDED_RIGHTS if not member.get(right)]
        if group.mode != "topics" and not chat.get("is_forum"):
            missing = [title for title in missing if title != "Manage topics"]
        if missing:
            findings.bad(
                f"{label}: the bot may not {', '.join(missing)}",
                f"group settings → Administrators → {name} → turn on {', '.join(missing)}",
            )
        else:
            findings.good(f"{label}: the bot is an administrator with the rights it needs")
    if group.mode == "topics":
        if chat.get("is_forum"):
            findings.good(f"{label}: topics are on (mode: topics)")
        else:
            findings.bad(
                f"{label}: mode: topics needs a forum, the group has no topics",
                "group settings → Topics → on (or set mode: replies for this group)",
            )
    if group.mode == "private":
        if me.get("has_topics_enabled"):
            findings.good(f"{label}: threaded mode is on (mode: private)")
        else:
            findings.bad(
                f"{label}: mode: private needs threaded mode, it is off for {name}",
                f"@BotFather → {name} → Bot Settings → Threaded mode → on",
            )
    for operator in group.operators:
        await _check_operator(bot, group, label, operator, findings)


async def _check_operator(
    bot: BotApi, group: GroupConfig, label: str, operator: int, findings: Findings
) -> None:
    try:
        member = await bot("getChatMember", chat_id=group.chat_id, user_id=operator)
    except TelegramError:
        member = {"status": "left"}
    if member.get("status") in MEMBER_STATUSES and member.get("is_member", True):
        findings.good(f"{label}: operator {operator} is a member")
    else:
        findings.bad(
            f"{label}: operator {operator} is not a member",
            f"add user {operator} to the group, or remove them from groups.{group.name}.operators",
        )


async def _check_updates(bot: BotApi, config: BridgeConfig, findings: Findings) -> None:
    from botapi.updates import WEBHOOK_PATH

    try:
        info = await bot("getWebhookInfo")
    except TelegramError as exc:
        findings.bad(f"Telegram: getWebhookInfo failed ({exc})", "retry; check telegram.api_url")
        return
    current = info.get("url") or ""
    if config.telegram.updates == "polling":
        if current:
            findings.bad(
                f"Telegram: updates: polling, but a webhook is set ({current})",
                "run `talker-bridge run` (it removes the webhook) or call deleteWebhook",
            )
        else:
            findings.good("Telegram: updates: polling, no webhook set")
        return
    if config.http.public_url is None:
        findings.bad(
            "Telegram: updates: webhook, but http.public_url is not set",
            "set http.public_url to the bridge's public https address",
        )
        return
    ours = str(config.http.public_url).rstrip("/") + WEBHOOK_PATH
    if current != ours:
        findings.bad(
            f"Telegram: the webhook is {current or 'not set'}, not {ours}",
            f"run `talker-bridge set-webhooks -c {config.source}`",
        )
        return
    findings.good(f"Telegram: webhook is {ours}")
    error = info.get("last_error_message")
    if error:
        findings.bad(
            f"Telegram: the last webhook delivery failed: {error}",
            f"make {ours} reachable from the internet (is the bridge running? the proxy?)",
        )
    pending = int(info.get("pending_update_count") or 0)
    if pending >= MAX_PENDING_UPDATES:
        findings.bad(
            f"Telegram: {pending} updates wait for the bridge",
            f"make {ours} reachable and the bridge running; they are delivered once it answers",
        )
    elif not error:
        findings.good(f"Telegram: webhook delivers ({pending} pending)")
