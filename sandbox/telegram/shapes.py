"""Render the fake's state as the Bot API's objects (User, Chat, Message, ChatMember, ...).

Only fields the spec defines, with every field the spec marks required, so aiogram (and any
client that trusts the spec) can parse them.
"""

from __future__ import annotations

from typing import Any

from sandbox.telegram.state import ADMIN_RIGHTS, Chat, FakeUser, Member, Message, StoredFile, World


def user_json(user: FakeUser) -> dict[str, Any]:
    out: dict[str, Any] = {"id": user.id, "is_bot": user.is_bot, "first_name": user.first_name}
    if user.last_name:
        out["last_name"] = user.last_name
    if user.username:
        out["username"] = user.username
    if user.language_code and not user.is_bot:
        out["language_code"] = user.language_code
    return out


def me_json(
    user: FakeUser, *, topics_enabled: bool = False, privacy: bool = True
) -> dict[str, Any]:
    """getMe: a User with the bot-only flags (`has_topics_enabled`: topics in private chats;
    `can_read_all_group_messages`: group privacy off)."""
    out = {
        **user_json(user),
        "can_join_groups": True,
        "can_read_all_group_messages": not privacy,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
    if topics_enabled:
        out["has_topics_enabled"] = True
    return out


def chat_json(chat: Chat, world: World) -> dict[str, Any]:
    out: dict[str, Any] = {"id": chat.id, "type": chat.type}
    if chat.type == "private" and chat.user_id is not None:
        user = world.users[chat.user_id]
        out["first_name"] = user.first_name
        if user.last_name:
            out["last_name"] = user.last_name
        if user.username:
            out["username"] = user.username
    else:
        out["title"] = chat.title or ""
        if chat.is_forum:
            out["is_forum"] = True
    return out


def chat_full_json(chat: Chat, world: World) -> dict[str, Any]:
    """getChat: ChatFullInfo."""
    out = chat_json(chat, world)
    out.update(accent_color_id=0, max_reaction_count=11)
    out["accepted_gift_types"] = {
        "unlimited_gifts": False,
        "limited_gifts": False,
        "unique_gifts": False,
        "premium_subscription": False,
        "gifts_from_channels": False,
    }
    if chat.pinned:
        pinned = chat.messages.get(chat.pinned[-1])
        if pinned is not None:
            out["pinned_message"] = message_json(pinned, chat, world, nested=True)
    return out


def member_json(member: Member, world: World) -> dict[str, Any]:
    user = user_json(world.users[member.user_id])
    if member.status == "creator":
        return {"status": "creator", "user": user, "is_anonymous": False}
    if member.status == "administrator":
        rights = {name: bool(member.rights.get(name, False)) for name in ADMIN_RIGHTS}
        return {
            "status": "administrator",
            "user": user,
            "can_be_edited": False,
            "is_anonymous": False,
            **rights,
            # Bot API 10.3 (newer than the shipped 10.1 spec) made this required; aiogram 3.31
            # refuses an administrator without it, and the live server sends it.
            "can_send_welcome_messages": False,
        }
    if member.status == "kicked":
        return {"status": "kicked", "user": user, "until_date": 0}
    if member.status == "left":
        return {"status": "left", "user": user}
    return {"status": "member", "user": user}


def message_json(
    message: Message, chat: Chat, world: World, *, nested: bool = False
) -> dict[str, Any]:
    out: dict[str, Any] = {"message_id": message.message_id, "date": message.date}
    if message.thread_id is not None:
        out["message_thread_id"] = message.thread_id
        if chat.has_topics:
            out["is_topic_message"] = True
    if message.from_id is not None:
        out["from"] = user_json(world.users[message.from_id])
    out["chat"] = chat_json(chat, world)
    if message.forward_origin:
        out["forward_origin"] = message.forward_origin
    if not nested:
        reply_to_id = message.reply_to_id
        if reply_to_id is None and message.thread_id is not None and chat.has_topics:
            reply_to_id = (
                message.thread_id
            )  # Telegram shows topic messages as replies to its start
        reply = chat.messages.get(reply_to_id) if reply_to_id is not None else None
        if reply is not None and reply.message_id != message.message_id:
            out["reply_to_message"] = message_json(reply, chat, world, nested=True)
    if message.edit_date is not None:
        out["edit_date"] = message.edit_date
    if message.media_group_id is not None:
        out["media_group_id"] = message.media_group_id
    if message.text is not None:
        out["text"] = message.text
        if message.entities:
            out["entities"] = message.entities
    out.update(message.content)
    if message.caption is not None:
        out["caption"] = message.caption
        if message.caption_entities:
            out["caption_entities"] = message.caption_entities
    if message.reply_markup is not None:
        out["reply_markup"] = message.reply_markup
    return out


def file_json(stored: StoredFile) -> dict[str, Any]:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
        "file_path": stored.file_path,
    }


def media_json(stored: StoredFile, extra: dict[str, Any]) -> dict[str, Any]:
    """The content field of a media message (`photo` is a list of sizes, the rest objects)."""
    base: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.kind == "photo":
        base.update(width=stored.width or 1, height=stored.height or 1)
        return {"photo": [base]}
    if stored.kind in ("document", "audio", "video", "animation") and stored.filename:
        base["file_name"] = stored.filename
    if stored.mime_type and stored.kind in ("document", "audio", "video", "voice", "animation"):
        base["mime_type"] = stored.mime_type
    if stored.kind in ("voice", "audio", "video", "video_note", "animation"):
        base["duration"] = int(extra.get("duration") or 1)
    if stored.kind in ("video", "animation"):
        base.update(width=int(extra.get("width") or 0), height=int(extra.get("height") or 0))
    if stored.kind == "video_note":
        base["length"] = int(extra.get("length") or 240)
    if stored.kind == "sticker":
        base.update(
            type="regular",
            width=stored.width or 512,
            height=stored.height or 512,
            is_animated=False,
            is_video=False,
        )
        if extra.get("emoji"):
            base["emoji"] = extra["emoji"]
    return {stored.kind: base}
