"""Bot API methods for forum topics: create, edit, close, reopen, delete.

Since Bot API 9.3 a bot with topics enabled in BotFather (getMe `has_topics_enabled`; the
fake's `Bot.topics_enabled`) may create, edit and delete topics in its private chat with a
user who started it; closing and reopening stay forum supergroups' (as the spec says), and the
bot needs no rights in its own private chat. Each call also posts the service message Telegram
shows in the topic (forum_topic_created, forum_topic_edited, forum_topic_closed,
forum_topic_reopened); the topic's message_thread_id is the id of its forum_topic_created
message. Every one of these calls counts against the chat's posting limits.
"""

from __future__ import annotations

from typing import Any

from sandbox.telegram.errors import bad_request
from sandbox.telegram.registry import Call, api
from sandbox.telegram.state import TOPIC_ICON_COLORS, Chat, Topic


def _forum(call: Call, *, private: bool = False) -> Chat:
    """The forum the call is about; `private`: a private chat with topics may be one."""
    chat = call.chat()
    call.require_postable(chat)
    if chat.type == "private" and private:
        if not call.bot.topics_enabled:
            raise bad_request("the bot has no topics in private chats")  # BotFather: off
        return chat
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _may_manage(call: Call, chat: Chat, right: str) -> bool:
    return chat.type == "private" or call.right(chat, right)


def _existing_topic(call: Call, chat: Chat, *, right: str = "can_manage_topics") -> Topic:
    topic = chat.topics.get(call.get("message_thread_id"))
    if topic is None or topic.deleted:
        raise bad_request("message thread not found")
    if topic.creator_id != call.bot.id and not _may_manage(call, chat, right):
        raise bad_request("not enough rights to manage topics")  # CHAT_ADMIN_REQUIRED
    return topic


def _service(call: Call, chat: Chat, topic: Topic, kind: str, body: dict[str, Any]) -> None:
    call.new_message(chat, topic.thread_id, content={kind: body})


@api("createForumTopic")
async def create_forum_topic(call: Call) -> dict[str, Any]:
    chat = _forum(call, private=True)
    if not _may_manage(call, chat, "can_manage_topics"):
        raise bad_request("not enough rights to create a topic")
    icon_color = call.get("icon_color", TOPIC_ICON_COLORS[0])
    if icon_color not in TOPIC_ICON_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")  # one of the six colours in the spec
    call.spend(chat)
    message = call.new_message(chat, None)
    topic = Topic(
        thread_id=message.message_id,
        name=call.get("name"),
        icon_color=icon_color,
        icon_custom_emoji_id=call.get("icon_custom_emoji_id") or None,
        creator_id=call.bot.id,
    )
    chat.topics[topic.thread_id] = topic
    message.thread_id = topic.thread_id
    created: dict[str, Any] = {"name": topic.name, "icon_color": topic.icon_color}
    if topic.icon_custom_emoji_id:
        created["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    message.content = {"forum_topic_created": created}
    return topic_json(topic)


def topic_json(topic: Topic) -> dict[str, Any]:
    out: dict[str, Any] = {
        "message_thread_id": topic.thread_id,
        "name": topic.name,
        "icon_color": topic.icon_color,
    }
    if topic.icon_custom_emoji_id:
        out["icon_custom_emoji_id"] = topic.icon_custom_emoji_id
    return out


@api("editForumTopic")
async def edit_forum_topic(call: Call) -> bool:
    chat = _forum(call, private=True)
    topic = _existing_topic(call, chat)
    name = call.get("name") or topic.name
    emoji = call.get("icon_custom_emoji_id")
    new_emoji = topic.icon_custom_emoji_id if emoji is None else (emoji or None)
    if (name, new_emoji) == (topic.name, topic.icon_custom_emoji_id):
        raise bad_request("TOPIC_NOT_MODIFIED")
    call.spend(chat)
    edited: dict[str, Any] = {}
    if name != topic.name:
        edited["name"] = name
    if new_emoji != topic.icon_custom_emoji_id:
        edited["icon_custom_emoji_id"] = new_emoji or ""
    topic.name, topic.icon_custom_emoji_id = name, new_emoji
    _service(call, chat, topic, "forum_topic_edited", edited)
    return True


@api("closeForumTopic", "reopenForumTopic")
async def close_or_reopen_forum_topic(call: Call) -> bool:
    chat = _forum(call)
    topic = _existing_topic(call, chat)
    closing = call.method == "closeForumTopic"
    if topic.closed == closing:
        raise bad_request("TOPIC_NOT_MODIFIED")
    call.spend(chat)
    topic.closed = closing
    _service(call, chat, topic, "forum_topic_closed" if closing else "forum_topic_reopened", {})
    return True


@api("deleteForumTopic")
async def delete_forum_topic(call: Call) -> bool:
    chat = _forum(call, private=True)
    topic = _existing_topic(call, chat, right="can_delete_messages")
    if not _may_manage(call, chat, "can_delete_messages"):
        raise bad_request("not enough rights to delete a topic")
    call.spend(chat)
    topic.deleted = True
    for message in chat.messages.values():
        if message.thread_id == topic.thread_id:
            message.deleted = True
    chat.pinned = [m for m in chat.pinned if not chat.messages[m].deleted]
    return True
