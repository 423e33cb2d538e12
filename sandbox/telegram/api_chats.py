"""Bot API methods about the bot itself, chats, members and commands."""

from __future__ import annotations

import re
from typing import Any

from sandbox.telegram.errors import bad_request
from sandbox.telegram.registry import Call, api
from sandbox.telegram.shapes import chat_full_json, me_json, member_json
from sandbox.telegram.state import Member

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")


@api("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    return me_json(call.bot.user, topics_enabled=call.bot.topics_enabled, privacy=call.bot.privacy)


@api("logOut", "close")
async def log_out(call: Call) -> bool:
    return True


@api("getChat")
async def get_chat(call: Call) -> dict[str, Any]:
    return chat_full_json(call.chat(), call.world)


def _member_of(call: Call, chat_id_name: str = "chat_id") -> tuple[Any, Member]:
    chat = call.chat(chat_id_name)
    user_id = call.get("user_id")
    if user_id not in call.world.users:
        raise bad_request("user not found")
    if chat.type == "private":
        if user_id not in (chat.user_id, call.bot.id):
            raise bad_request("user not found")
        return chat, Member(user_id=user_id, status="member")
    member = chat.members.get(user_id) or Member(user_id=user_id, status="left")
    return chat, member


@api("getChatMember")
async def get_chat_member(call: Call) -> dict[str, Any]:
    _, member = _member_of(call)
    return member_json(member, call.world)


@api("getChatAdministrators")
async def get_chat_administrators(call: Call) -> list[dict[str, Any]]:
    chat = call.chat()
    admins = [m for m in chat.members.values() if m.status in ("creator", "administrator")]
    return [member_json(m, call.world) for m in admins]


@api("getChatMemberCount")
async def get_chat_member_count(call: Call) -> int:
    chat = call.chat()
    if chat.type == "private":
        return 2
    return sum(1 for m in chat.members.values() if m.status not in ("left", "kicked"))


def _scope_key(call: Call) -> str:
    scope = call.get("scope") or {"type": "default"}
    key = scope["type"]
    if "chat_id" in scope:
        key += f":{scope['chat_id']}"
    if "user_id" in scope:
        key += f":{scope['user_id']}"
    return f"{key}|{call.get('language_code') or ''}"


@api("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    commands = call.get("commands")
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not _COMMAND.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
    call.bot.commands[_scope_key(call)] = commands
    return True


@api("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    return call.bot.commands.get(_scope_key(call), [])


@api("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    call.bot.commands.pop(_scope_key(call), None)
    return True
