"""The VK API methods the fake models; each takes checked parameters and returns `response`.

Methods VK has but the fake does not model answer error 1 naming the method, so a client never
mistakes silence for success.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox.vk import payloads
from sandbox.vk.spec import VkError, param_error, vk_error
from sandbox.vk.state import BANNED, DELETED, EVENT_TYPES, TOKEN_RIGHTS, CallbackServer

if TYPE_CHECKING:
    from sandbox.vk.fake import FakeVK

MAX_CALLBACK_SERVERS = 10
ATTACHMENT_RE = re.compile(
    r"^(photo|video|audio|doc|wall|market|poll|audio_message)(-?\d+)_(\d+)(?:_([0-9A-Za-z]+))?$"
)
USER_FIELDS = {"photo_100", "photo_200", "screen_name", "sex", "domain"}

Handler = Callable[["FakeVK", dict[str, Any], str], Any]


def _own_group(fake: FakeVK, p: dict[str, Any]) -> None:
    if "group_id" in p and int(p["group_id"]) != fake.group_id:
        raise vk_error(15, "no access to this community")


def messages_send(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    # Since API 5.90 random_id is mandatory; 0 switches the duplicate check off.
    if "random_id" not in p:
        raise param_error("random_id", "is a required parameter")
    text = p.get("message", "")
    attachment_ids = _parse_attachments(fake, p.get("attachment", ""))
    if not text and not attachment_ids:
        raise param_error("message", "is empty or invalid")
    keyboard = _parse_keyboard(p["keyboard"]) if p.get("keyboard") else None
    if "peer_ids" in p:
        return [
            _send_to_one_of_many(fake, int(peer), text, attachment_ids, keyboard)
            for peer in p["peer_ids"]
        ]
    peer = p.get("peer_id", p.get("user_id"))
    if peer is None:
        raise param_error("peer_id")
    random_id = int(p["random_id"])
    return _send_one(fake, int(peer), text, attachment_ids, random_id, keyboard)["message_id"]


def _send_to_one_of_many(
    fake: FakeVK,
    peer: int,
    text: str,
    attachment_ids: list[str],
    keyboard: dict[str, Any] | None,
) -> dict[str, Any]:
    """One `messages_send_user_ids_response_item`: a peer that cannot be messaged gets an
    `error` in its item (`base_message_error`) instead of failing the whole call."""
    try:
        sent = _send_one(fake, peer, text, attachment_ids, 0, keyboard)
    except VkError as error:
        failure = {"code": error.code, "description": error.message}
        return {"peer_id": peer, "message_id": 0, "conversation_message_id": 0, "error": failure}
    return {
        "peer_id": peer,
        "message_id": sent["message_id"],
        "conversation_message_id": sent["cmid"],
    }


#: Keyboard limits (dev.vk.com "Bot keyboards"): buttons per row, rows of a keyboard and of an
#: inline keyboard, a button's payload, and the action types with a label.
KEYBOARD_ROW = 5
KEYBOARD_ROWS, INLINE_ROWS = 10, 6
MAX_BUTTON_PAYLOAD = 255
BUTTON_TYPES = ("text", "callback", "open_link", "location", "vkpay", "open_app")
LABELLED = ("text", "callback", "open_link", "open_app")
COLOURS = ("default", "positive", "negative", "primary")


def _parse_keyboard(raw: Any) -> dict[str, Any]:
    """The `keyboard` parameter (a JSON `messages_keyboard`), checked as VK checks it."""

    def invalid(why: str) -> VkError:
        return param_error("keyboard", f"is invalid: {why}")

    try:
        keyboard = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        keyboard = None
    if not isinstance(keyboard, dict) or not isinstance(keyboard.get("buttons"), list):
        raise invalid("buttons is required")
    inline = bool(keyboard.get("inline", False))
    if inline and "one_time" in keyboard:
        raise invalid("one_time is not allowed in an inline keyboard")
    rows = keyboard["buttons"]
    if len(rows) > (INLINE_ROWS if inline else KEYBOARD_ROWS):
        raise invalid("too many rows")
    for row in rows:
        if not isinstance(row, list) or not 0 < len(row) <= KEYBOARD_ROW:
            raise invalid(f"a row holds 1 to {KEYBOARD_ROW} buttons")
        for button in row:
            action = button.get("action") if isinstance(button, dict) else None
            if not isinstance(action, dict) or action.get("type") not in BUTTON_TYPES:
                raise invalid(f"action.type must be one of {', '.join(BUTTON_TYPES)}")
            label = action.get("label")
            if action["type"] in LABELLED and (not isinstance(label, str) or not label):
                raise invalid("action.label is required")
            if isinstance(label, str) and len(label) > 40:
                raise invalid("action.label is longer than 40 characters")
            payload = action.get("payload")
            if payload is not None:
                if not isinstance(payload, str) or len(payload) > MAX_BUTTON_PAYLOAD:
                    raise invalid(f"payload is a JSON string of at most {MAX_BUTTON_PAYLOAD}")
                try:
                    json.loads(payload)
                except ValueError:
                    raise invalid("payload is not JSON") from None
            if button.get("color", "default") not in COLOURS:
                raise invalid("color is not a button colour")
    return keyboard


def _send_one(
    fake: FakeVK,
    peer: int,
    text: str,
    attachment_ids: list[str],
    random_id: int,
    keyboard: dict[str, Any] | None = None,
) -> dict[str, Any]:
    state = fake.state
    if random_id and random_id in state.sent_by_random_id:
        # VK checks random_id against the whole history of this sender and does not send a
        # second message; it answers with the id of the message already sent.
        existing = state.messages[state.sent_by_random_id[random_id]]
        return {"message_id": existing["id"], "cmid": existing["conversation_message_id"]}
    user = state.users.get(peer)
    if user is not None and user.deactivated:
        raise vk_error(902)
    if peer not in state.allowed:
        raise vk_error(901)
    message_id = state.next_id()
    cmid = state.next_conversation_message_id(peer)
    message = payloads.message_object(
        message_id,
        cmid,
        peer,
        -fake.group_id,
        text,
        int(fake.clock.now()),
        [_attachment_object(fake, a) for a in attachment_ids],
        out=True,
        random_id=random_id,
    )
    message["attachment_ids"] = attachment_ids
    if keyboard is not None:
        message["keyboard"] = keyboard  # messages_message.keyboard, as VK returns it
    state.messages[message_id] = message
    if random_id:
        state.sent_by_random_id[random_id] = message_id
    fake.outgoing_message(message)
    return {"message_id": message_id, "cmid": cmid}


def _parse_attachments(fake: FakeVK, raw: str) -> list[str]:
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if len(ids) > 10:
        raise param_error("attachment", "is too long (maximum 10 items)")
    for item in ids:
        match = ATTACHMENT_RE.match(item)
        if not match:
            raise param_error("attachment", f"is invalid: {item}")
        kind, owner, media = match.group(1), int(match.group(2)), int(match.group(3))
        store = {"photo": fake.state.photos, "doc": fake.state.docs}.get(kind)
        if store is not None and (owner, media) not in store:
            raise param_error("attachment", f"is invalid: {item} does not exist")
    return ids


def _attachment_object(fake: FakeVK, item: str) -> dict[str, Any]:
    match = ATTACHMENT_RE.match(item)
    assert match is not None  # checked by _parse_attachments
    kind, key = match.group(1), (int(match.group(2)), int(match.group(3)))
    if kind == "photo":
        return {"type": "photo", "photo": fake.state.photos[key]}
    if kind == "doc":
        return {"type": "doc", "doc": fake.state.docs[key]}
    return {"type": kind, kind: {"owner_id": key[0], "id": key[1]}}


def users_get(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    fields = set(p.get("fields", []))
    out = []
    for raw in p.get("user_ids", []):
        try:
            user_id = int(raw)
        except ValueError:
            raise vk_error(113) from None
        user = fake.state.users.get(user_id)
        if user is None or user.deactivated == DELETED:
            out.append(
                {"id": user_id, "first_name": "DELETED", "last_name": "", "deactivated": DELETED}
            )
            continue
        item: dict[str, Any] = {
            "id": user.id,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "can_access_closed": True,
            "is_closed": False,
        }
        if user.deactivated == BANNED:
            item["deactivated"] = BANNED
        for name in fields & USER_FIELDS:
            item[name] = f"{base}/_files/avatar-{user.id}.png" if name.startswith("photo") else ""
        if "sex" in fields:
            item["sex"] = 0
        out.append(item)
    return out


def groups_get_by_id(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    wanted = p.get("group_ids") or ([str(p["group_id"])] if "group_id" in p else [])
    ids = [int(x) for x in wanted if str(x).lstrip("-").isdigit()] or [fake.group_id]
    fields = _list(p.get("fields"))
    groups = []
    for group_id in ids:
        if abs(group_id) != fake.group_id:
            raise vk_error(100, "group_ids is invalid")
        extra: dict[str, Any] = {}
        if "can_message" in fields:
            extra["can_message"] = int(fake.state.settings.messages_enabled)
        groups.append(
            {
                **extra,
                "id": fake.group_id,
                "name": fake.group_name,
                "screen_name": f"club{fake.group_id}",
                "is_closed": 0,
                "type": "group",
                "photo_50": f"{base}/_files/group.png",
                "photo_100": f"{base}/_files/group.png",
                "photo_200": f"{base}/_files/group.png",
            }
        )
    return {"groups": groups, "profiles": []}


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(part) for part in value]


def groups_get_token_permissions(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    rights = fake.state.settings.token_rights
    named = [(name, bit) for name, bit in TOKEN_RIGHTS.items() if name in rights]
    return {
        "mask": sum(bit for _, bit in named),
        "permissions": [{"name": name, "setting": bit} for name, bit in named],
    }


def _events_json(events: dict[str, bool]) -> dict[str, int]:
    """Every event type as 0 or 1, as groups.getLongPollSettings/getCallbackSettings answer."""
    return {name: int(events.get(name, False)) for name in (*EVENT_TYPES, *events)}


def groups_get_long_poll_settings(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    _own_group(fake, p)
    settings = fake.state.settings
    return {
        "is_enabled": settings.long_poll_enabled,
        "api_version": settings.long_poll_api_version,
        "events": _events_json(settings.long_poll_events),
    }


def groups_set_long_poll_settings(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    _own_group(fake, p)
    settings = fake.state.settings
    if "enabled" in p:
        settings.long_poll_enabled = bool(int(p["enabled"]))
    if "api_version" in p:
        settings.long_poll_api_version = str(p["api_version"])
    for name in settings.long_poll_events:
        if name in p:
            settings.long_poll_events[name] = bool(int(p[name]))
    return 1


def groups_get_callback_settings(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    server = _server(fake, p)
    return {"api_version": server.api_version, "events": _events_json(server.events)}


def groups_get_long_poll_server(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    _own_group(fake, p)
    stream = fake.longpoll
    return {"key": stream.key, "server": f"{base}/_lp/{stream.server_id}", "ts": str(stream.ts)}


def photos_get_messages_upload_server(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    token = secrets.token_hex(8)
    return {
        "album_id": -3,
        "upload_url": f"{base}/_upload/photo/{token}",
        "user_id": 0,
        "group_id": fake.group_id,
    }


def photos_save_messages_photo(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    try:
        uploaded = json.loads(p["photo"])
    except json.JSONDecodeError:
        raise param_error("photo", "is undefined") from None
    if not uploaded or not isinstance(uploaded, list):
        raise param_error("photo", "is undefined")
    stored = fake.state.pending_uploads.pop(str(uploaded[0].get("photo", "")), None)
    if stored is None or p.get("hash") != fake.upload_hash(uploaded[0]["photo"]):
        raise vk_error(121)
    key = fake.state.store_file(stored.name, stored.data, stored.content_type)
    photo = payloads.photo_object(
        fake.state.next_id(),
        -fake.group_id,
        f"{base}/_files/{key}",
        int(fake.clock.now()),
        secrets.token_hex(9),
    )
    fake.state.photos[(photo["owner_id"], photo["id"])] = photo
    return [photo]


def docs_get_messages_upload_server(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    kind = p.get("type", "doc")
    return {"upload_url": f"{base}/_upload/doc/{kind}"}


def docs_save(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    token = p["file"].split("|", 1)[0]
    kind = p["file"].split("|", 1)[1] if "|" in p["file"] else "doc"
    stored = fake.state.pending_uploads.pop(token, None)
    if stored is None:
        raise vk_error(1, "file is invalid or already saved")
    key = fake.state.store_file(stored.name, stored.data, stored.content_type)
    url = f"{base}/_files/{key}"
    item_id = fake.state.next_id()
    if kind == "audio_message":
        audio = payloads.audio_message_object(item_id, -fake.group_id, url)
        fake.state.docs[(-fake.group_id, item_id)] = audio
        return {"type": "audio_message", "audio_message": audio}
    title = p.get("title") or stored.name
    doc = payloads.doc_object(
        item_id,
        -fake.group_id,
        title,
        len(stored.data),
        url,
        int(fake.clock.now()),
        secrets.token_hex(9),
    )
    fake.state.docs[(doc["owner_id"], doc["id"])] = doc
    return {"type": "doc", "doc": doc}


def groups_get_callback_confirmation_code(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    _own_group(fake, p)
    return {"code": fake.state.confirmation_code}


def groups_add_callback_server(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    _own_group(fake, p)
    servers = fake.state.callback_servers
    if len(servers) >= MAX_CALLBACK_SERVERS:
        raise vk_error(2000)
    server = CallbackServer(fake.state.next_id(), p["url"], p["title"], p.get("secret_key", ""))
    servers[server.id] = server
    fake.confirm_later(server)
    return {"server_id": server.id}


def groups_edit_callback_server(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    server = _server(fake, p)
    server.url, server.title = p["url"], p["title"]
    server.secret_key = p.get("secret_key", server.secret_key)
    server.status = "unconfigured"
    fake.confirm_later(server)
    return 1


def groups_delete_callback_server(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    server = _server(fake, p)
    del fake.state.callback_servers[server.id]
    return 1


def groups_get_callback_servers(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    _own_group(fake, p)
    items = [s.as_item(creator_id=1) for s in fake.state.callback_servers.values()]
    return {"count": len(items), "items": items}


def groups_set_callback_settings(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    server = _server(fake, p)
    if "api_version" in p:
        server.api_version = p["api_version"]
    for name in [*server.events, "message_typing_state", "message_read"]:
        if name in p:
            server.events[name] = bool(p[name])
    return 1


def _server(fake: FakeVK, p: dict[str, Any]) -> CallbackServer:
    _own_group(fake, p)
    server = fake.state.callback_servers.get(int(p.get("server_id", 0)))
    if server is None:
        raise param_error("server_id", "is invalid")
    return server


def ok(fake: FakeVK, p: dict[str, Any], base: str) -> Any:
    """Methods whose only visible effect is success (typing indicator, read marks…)."""
    _own_group(fake, p)
    return 1


HANDLERS: dict[str, Handler] = {
    "messages.send": messages_send,
    "messages.sendMessageEventAnswer": ok,
    "messages.setActivity": ok,
    "messages.markAsRead": ok,
    "users.get": users_get,
    "groups.getById": groups_get_by_id,
    "groups.getLongPollServer": groups_get_long_poll_server,
    "groups.setLongPollSettings": groups_set_long_poll_settings,
    "groups.getLongPollSettings": groups_get_long_poll_settings,
    "groups.getTokenPermissions": groups_get_token_permissions,
    "groups.getCallbackSettings": groups_get_callback_settings,
    "groups.getCallbackConfirmationCode": groups_get_callback_confirmation_code,
    "groups.addCallbackServer": groups_add_callback_server,
    "groups.editCallbackServer": groups_edit_callback_server,
    "groups.deleteCallbackServer": groups_delete_callback_server,
    "groups.getCallbackServers": groups_get_callback_servers,
    "groups.setCallbackSettings": groups_set_callback_settings,
    "photos.getMessagesUploadServer": photos_get_messages_upload_server,
    "photos.saveMessagesPhoto": photos_save_messages_photo,
    "docs.getMessagesUploadServer": docs_get_messages_upload_server,
    "docs.save": docs_save,
}


def call(fake: FakeVK, method: str, params: dict[str, Any], base: str) -> Any:
    handler = HANDLERS.get(method)
    if handler is None:
        raise VkError(1, f"Unknown error occurred: {method} is not modelled by the fake VK")
    return handler(fake, params, base)
