"""Bot API methods that send messages: text, media, albums, locations, contacts, copies."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.telegram.entities import EntityParseError, parse
from sandbox.telegram.errors import bad_request
from sandbox.telegram.files import resolve_input_file
from sandbox.telegram.registry import Call, api
from sandbox.telegram.shapes import media_json, user_json
from sandbox.telegram.state import Chat

MEDIA_METHODS = {
    "sendPhoto": "photo",
    "sendDocument": "document",
    "sendVoice": "voice",
    "sendAudio": "audio",
    "sendVideo": "video",
    "sendSticker": "sticker",
    "sendAnimation": "animation",
    "sendVideoNote": "video_note",
}


def formatted(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities, from parse_mode or explicit entities."""
    if entities:
        return text, entities
    try:
        parsed = parse(text, parse_mode)
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from error
    return parsed.text, parsed.entities


def normalize_markup(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only inline keyboards stay on a message; an empty one is no keyboard."""
    if not markup or "inline_keyboard" not in markup:
        return None
    rows = [row for row in markup["inline_keyboard"] if row]
    return {"inline_keyboard": rows} if rows else None


def target(call: Call) -> tuple[Chat, int | None, int | None]:
    """Chat, thread and reply target of a send call, after every check but the rate limit."""
    chat = call.chat()
    call.require_postable(chat)
    thread_id = call.get("message_thread_id")
    reply_to_id = None
    reply = call.get("reply_parameters")
    if reply:
        reply_chat = chat
        if reply.get("chat_id") is not None:
            reply_chat = call.chat_from_value(reply["chat_id"])
        replied = reply_chat.messages.get(reply["message_id"])
        if replied is None or replied.deleted:
            if not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
        elif reply_chat is chat:
            reply_to_id = replied.message_id
            if thread_id is None:
                thread_id = replied.thread_id  # a reply lands in the topic of its target
    return chat, call.topic(chat, thread_id, for_posting=True), reply_to_id


@api("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    chat, thread_id, reply_to_id = target(call)
    text, entities = formatted(call.get("text"), call.get("parse_mode"), call.get("entities"))
    call.spend(chat)
    message = call.new_message(
        chat,
        thread_id,
        text=text,
        entities=entities,
        reply_to_id=reply_to_id,
        reply_markup=normalize_markup(call.get("reply_markup")),
    )
    return call.render(chat, message)


@api(*MEDIA_METHODS)
async def send_media(call: Call) -> dict[str, Any]:
    kind = MEDIA_METHODS[call.method]
    chat, thread_id, reply_to_id = target(call)
    caption = call.get("caption")
    caption_entities: list[dict[str, Any]] = []
    if caption is not None:
        caption, caption_entities = formatted(
            caption, call.get("parse_mode"), call.get("caption_entities")
        )
    stored = await resolve_input_file(call.world, kind, call.get(kind), call.attachments, kind)
    call.spend(chat)
    message = call.new_message(
        chat,
        thread_id,
        content=media_json(stored, call.params),
        caption=caption or None,
        caption_entities=caption_entities,
        reply_to_id=reply_to_id,
        reply_markup=normalize_markup(call.get("reply_markup")),
    )
    return call.render(chat, message)


@api("sendMediaGroup")
async def send_media_group(call: Call) -> list[dict[str, Any]]:
    chat, thread_id, reply_to_id = target(call)
    media = call.get("media")
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media: an album has 2-10 items")
    kinds = {item["type"] for item in media}
    if len(kinds) > 1 and kinds & {"document", "audio"}:
        raise bad_request(
            f"{sorted(kinds & {'document', 'audio'})[0]} can't be mixed with other media types"
        )
    prepared = []
    for item in media:
        caption = item.get("caption")
        entities: list[dict[str, Any]] = []
        if caption is not None:
            caption, entities = formatted(
                caption, item.get("parse_mode"), item.get("caption_entities")
            )
        stored = await resolve_input_file(
            call.world, item["type"], item["media"], call.attachments, "media"
        )
        prepared.append((stored, item, caption, entities))
    call.spend(chat, len(prepared))
    group_id = str(secrets.randbelow(10**17) + 10**17)
    sent = []
    for stored, item, caption, entities in prepared:
        message = call.new_message(
            chat,
            thread_id,
            content=media_json(stored, item),
            caption=caption or None,
            caption_entities=entities,
            reply_to_id=reply_to_id,
            media_group_id=group_id,
        )
        sent.append(call.render(chat, message))
    return sent


@api("sendLocation")
async def send_location(call: Call) -> dict[str, Any]:
    chat, thread_id, reply_to_id = target(call)
    latitude, longitude = call.get("latitude"), call.get("longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise bad_request("wrong latitude or longitude")
    call.spend(chat)
    location = {"latitude": latitude, "longitude": longitude}
    message = call.new_message(
        chat,
        thread_id,
        content={"location": location},
        reply_to_id=reply_to_id,
        reply_markup=normalize_markup(call.get("reply_markup")),
    )
    return call.render(chat, message)


@api("sendContact")
async def send_contact(call: Call) -> dict[str, Any]:
    chat, thread_id, reply_to_id = target(call)
    contact = {"phone_number": call.get("phone_number"), "first_name": call.get("first_name")}
    if call.get("last_name"):
        contact["last_name"] = call.get("last_name")
    call.spend(chat)
    message = call.new_message(
        chat,
        thread_id,
        content={"contact": contact},
        reply_to_id=reply_to_id,
        reply_markup=normalize_markup(call.get("reply_markup")),
    )
    return call.render(chat, message)


@api("copyMessage", "forwardMessage")
async def copy_or_forward(call: Call) -> dict[str, Any]:
    source_chat = call.chat("from_chat_id")
    source = call.message(source_chat, call.get("message_id"), "message to copy not found")
    if (not source.text and not source.content) or set(source.content) & {
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    }:
        raise bad_request("message can't be copied")
    chat, thread_id, reply_to_id = target(call)
    caption, caption_entities = source.caption, source.caption_entities
    forward_origin = None
    markup = source.reply_markup
    if call.method == "copyMessage":
        if call.get("caption") is not None:
            caption, caption_entities = formatted(
                call.get("caption"), call.get("parse_mode"), call.get("caption_entities")
            )
        markup = normalize_markup(call.get("reply_markup"))
    else:
        origin_user = call.world.users.get(source.from_id) if source.from_id else None
        forward_origin = {"type": "user", "date": source.date}
        if origin_user is not None:
            forward_origin["sender_user"] = user_json(origin_user)
        markup = None
    call.spend(chat)
    message = call.new_message(
        chat,
        thread_id,
        text=source.text,
        entities=list(source.entities),
        content=dict(source.content),
        caption=caption,
        caption_entities=list(caption_entities),
        reply_to_id=reply_to_id,
        reply_markup=markup,
        forward_origin=forward_origin,
    )
    if call.method == "copyMessage":
        return {"message_id": message.message_id}
    return call.render(chat, message)
