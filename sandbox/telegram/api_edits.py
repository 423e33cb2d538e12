"""Bot API methods that change existing messages: edits, deletion, pins, reactions, actions."""

from __future__ import annotations

import time
from typing import Any

from sandbox.telegram.api_messages import formatted, normalize_markup
from sandbox.telegram.errors import bad_request
from sandbox.telegram.registry import Call, api
from sandbox.telegram.state import Chat, Message

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}


def _editable(call: Call) -> tuple[Chat, Message]:
    if call.get("inline_message_id") is not None:
        raise bad_request("inline messages are not supported by the fake")
    if call.get("chat_id") is None or call.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    chat = call.chat()
    call.require_postable(chat)
    message = call.message(chat, call.get("message_id"), "message to edit not found")
    if message.from_id != call.bot.id:
        raise bad_request("message can't be edited")
    return chat, message


def _finish_edit(call: Call, chat: Chat, message: Message) -> dict[str, Any]:
    message.edit_date = int(time.time())
    return call.render(chat, message)


@api("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    chat, message = _editable(call)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    text, entities = formatted(call.get("text"), call.get("parse_mode"), call.get("entities"))
    markup = normalize_markup(call.get("reply_markup"))
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise bad_request(NOT_MODIFIED)
    call.spend(chat)
    message.text, message.entities, message.reply_markup = text, entities, markup
    return _finish_edit(call, chat, message)


@api("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    chat, message = _editable(call)
    if message.text is not None or not message.content:
        raise bad_request("there is no caption in the message to edit")
    caption: str | None = None
    entities: list[dict[str, Any]] = []
    if call.get("caption") is not None:
        caption, entities = formatted(
            call.get("caption"), call.get("parse_mode"), call.get("caption_entities")
        )
    caption = caption or None
    markup = normalize_markup(call.get("reply_markup"))
    current = (message.caption, message.caption_entities, message.reply_markup)
    if (caption, entities, markup) == current:
        raise bad_request(NOT_MODIFIED)
    call.spend(chat)
    message.caption, message.caption_entities, message.reply_markup = caption, entities, markup
    return _finish_edit(call, chat, message)


@api("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    chat, message = _editable(call)
    markup = normalize_markup(call.get("reply_markup"))
    if markup == message.reply_markup:
        raise bad_request(NOT_MODIFIED)
    call.spend(chat)
    message.reply_markup = markup
    return _finish_edit(call, chat, message)


@api("deleteMessage")
async def delete_message(call: Call) -> bool:
    chat = call.chat()
    message = call.message(chat, call.get("message_id"), "message to delete not found")
    if chat.is_group:
        call.require_postable(chat)
        own = message.from_id == call.bot.id
        if not own and not call.right(chat, "can_delete_messages"):
            raise bad_request("message can't be deleted")
    if message.message_id in {t.thread_id for t in chat.topics.values()}:
        raise bad_request("message can't be deleted")
    call.spend(chat)
    message.deleted = True
    if message.message_id in chat.pinned:
        chat.pinned.remove(message.message_id)
    return True


@api("pinChatMessage")
async def pin_chat_message(call: Call) -> bool:
    chat = call.chat()
    call.require_postable(chat)
    if chat.is_group and not call.right(chat, "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message = call.message(chat, call.get("message_id"), "message to pin not found")
    call.spend(chat)
    if message.message_id in chat.pinned:
        chat.pinned.remove(message.message_id)
    chat.pinned.append(message.message_id)
    return True


@api("unpinChatMessage")
async def unpin_chat_message(call: Call) -> bool:
    chat = call.chat()
    call.require_postable(chat)
    if chat.is_group and not call.right(chat, "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    message_id = call.get("message_id")
    if message_id is None:
        message_id = chat.pinned[-1] if chat.pinned else None
    if message_id is None or message_id not in chat.pinned:
        raise bad_request("message to unpin not found")
    call.spend(chat)
    chat.pinned.remove(message_id)
    return True


@api("unpinAllChatMessages")
async def unpin_all_chat_messages(call: Call) -> bool:
    chat = call.chat()
    call.require_postable(chat)
    if chat.is_group and not call.right(chat, "can_pin_messages"):
        raise bad_request("not enough rights to manage pinned messages in the chat")
    call.spend(chat)
    chat.pinned.clear()
    return True


@api("setMessageReaction")
async def set_message_reaction(call: Call) -> bool:
    chat = call.chat()
    call.require_postable(chat)
    message = call.message(chat, call.get("message_id"), "message to react not found")
    reactions = call.get("reaction") or []
    if len(reactions) > 1:
        raise bad_request("REACTIONS_TOO_MANY")
    message.reactions = reactions
    return True


@api("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    chat = call.chat()
    call.require_postable(chat)
    call.topic(chat, call.get("message_thread_id"), for_posting=False)
    if call.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True
