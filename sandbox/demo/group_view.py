"""The operators' group as a person in it sees it: messages with formatting, topics, pins;
and (`mode: private`) an operator's private chat with the bot, in the same shape.

Read from the fake Telegram's state and shaped for the page: text plus Telegram's entities
(the page turns bold, italic, links... into DOM nodes), inline buttons, photos as URLs of the
demo's file route, and which topic each message is in (None: the General topic).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.telegram.state import Chat, Message

if TYPE_CHECKING:
    from sandbox.telegram import FakeTelegram, FakeUser

FILE_ROUTE = "/demo/api/files/"
_SERVICE_TEXT = {
    "forum_topic_created": "created the topic",
    "forum_topic_edited": "edited the topic",
    "forum_topic_closed": "closed the topic",
    "forum_topic_reopened": "reopened the topic",
    "pinned_message": "pinned a message",
    "new_chat_members": "joined the group",
    "left_chat_member": "left the group",
}


def group_view(fake: FakeTelegram, chat_id: int) -> dict[str, Any]:
    """The whole group: title, messages oldest first, topics, and the latest pinned message."""
    return chat_json(fake, fake.world.groups[chat_id])


def bot_name(fake: FakeTelegram) -> str:
    """The bot's name as Telegram shows it (the demo has one bot)."""
    return next(iter(fake.world.bots.values())).user.full_name


def private_view(fake: FakeTelegram, user: FakeUser) -> dict[str, Any]:
    """`user`'s private chat with the bot as they see it (in `mode: private`, its topics are
    the conversations they accepted): the same shape as `group_view`, titled with the bot."""
    bot = next(iter(fake.world.bots.values()))
    chat = fake.world.private.get((bot.id, user.id))
    if chat is None:
        return {
            "chat_id": user.id,
            "title": bot.user.full_name,
            "messages": [],
            "topics": [],
            "pinned": None,
        }
    return {**chat_json(fake, chat), "title": bot.user.full_name}


def chat_json(fake: FakeTelegram, chat: Chat) -> dict[str, Any]:
    """A chat's messages oldest first, its live topics, and the latest pinned message."""
    messages = [
        message_json(fake, chat, m)
        for m in sorted(chat.messages.values(), key=lambda m: m.message_id)
        if not m.deleted
    ]
    topics = []
    for topic in sorted(chat.topics.values(), key=lambda t: t.thread_id):
        if topic.deleted:
            continue
        in_topic = [m for m in messages if m["topic"] == topic.thread_id]
        topics.append(
            {
                "thread_id": topic.thread_id,
                "name": topic.name,
                "icon_color": f"#{topic.icon_color:06x}",
                "closed": topic.closed,
                "count": len(in_topic),
                "last": in_topic[-1]["preview"] if in_topic else "",
                "last_id": in_topic[-1]["id"] if in_topic else 0,
            }
        )
    pinned = None
    live_pins = [i for i in chat.pinned if i in chat.messages and not chat.messages[i].deleted]
    if live_pins:
        pinned = message_json(fake, chat, chat.messages[live_pins[-1]])
    return {
        "chat_id": chat.id,
        "title": chat.title or "",
        "messages": messages,
        "topics": topics,
        "pinned": pinned,
    }


def message_json(fake: FakeTelegram, chat: Chat, message: Message) -> dict[str, Any]:
    sender = fake.world.users.get(message.from_id) if message.from_id else None
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    photo = None
    photos = message.content.get("photo")
    if isinstance(photos, list) and photos:
        photo = FILE_ROUTE + str(photos[-1]["file_id"])
    kind = message.kind
    service = _SERVICE_TEXT.get(kind)
    document = message.content.get("document")
    file_name = document.get("file_name") if isinstance(document, dict) else None
    return {
        "id": message.message_id,
        "topic": message.thread_id,
        "from": {
            "id": sender.id if sender else None,
            "name": sender.full_name if sender else "",
            "is_bot": bool(sender and sender.is_bot),
        },
        "kind": kind,
        "service": service,
        "topic_name": (message.content.get(kind) or {}).get("name") if service else None,
        "text": text or "",
        "entities": list(entities or []),
        "photo": photo,
        "file_name": file_name,
        "buttons": (message.reply_markup or {}).get("inline_keyboard", []),
        "reply_to": message.reply_to_id,
        "edited": message.edit_date is not None,
        "pinned": message.message_id in chat.pinned,
        "date": message.date,
        "preview": _preview(text, kind, sender.full_name if sender else ""),
    }


def _preview(text: str | None, kind: str, sender: str) -> str:
    body = (text or "").strip().splitlines()[0] if (text or "").strip() else f"[{kind}]"
    if kind in _SERVICE_TEXT:
        body = f"{sender} {_SERVICE_TEXT[kind]}"
    return body[:80]


def file_bytes(fake: FakeTelegram, file_id: str) -> tuple[bytes, str] | None:
    """A stored file's bytes and content type, or None when the fake has no such file."""
    stored = fake.world.files.get(file_id)
    if stored is None:
        return None
    data = stored.data
    if data.startswith(b"\x89PNG"):
        content_type = "image/png"
    elif data.startswith(b"\xff\xd8"):
        content_type = "image/jpeg"
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        content_type = "image/webp"
    else:
        content_type = "application/octet-stream"  # never sniffed as HTML by the browser
    return data, content_type
