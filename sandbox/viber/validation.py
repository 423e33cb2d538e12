"""Checks Viber applies to `send_message` bodies, and Viber's status codes.

Status codes and sizes from Viber's REST Bot API pages (creators.viber.com): 2 invalid auth
token, 3 bad data, 4 missing data, 5 receiver not registered, 6 not subscribed, 10 webhook not
set, 12 too many requests. `status_message` strings are the camelCase words Viber answers with.
"""

from __future__ import annotations

from typing import Any

STATUS_MESSAGES = {
    0: "ok",
    1: "invalidUrl",
    2: "invalidAuthToken",
    3: "badData",
    4: "missingData",
    5: "receiverNotRegistered",
    6: "notSubscribed",
    7: "accountBlocked",
    8: "accountNotFound",
    10: "webhookNotSet",
    12: "tooManyRequests",
}

MAX_BODY_BYTES = 30 * 1024
MAX_SENDER_NAME = 28
MAX_TEXT = 7000
MAX_CAPTION = 512
MAX_TRACKING_DATA = 4000
MAX_URL = 2000
MAX_FILE_NAME = 256
MESSAGE_TYPES = ("text", "picture", "video", "file", "location", "contact", "sticker", "url")
MESSAGE_TYPES_ALSO_ACCEPTED = ("rich_media", "keyboard")


class ViberError(Exception):
    """An API-level failure: HTTP 200 with `{status, status_message}`."""

    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"{status} {detail}")
        self.status = status
        self.status_message = STATUS_MESSAGES.get(status, "generalError")
        self.detail = detail


def _require(data: dict[str, Any], key: str, where: str = "") -> Any:
    value = data.get(key)
    if value is None or value == "":
        raise ViberError(4, f"{where}{key} is required")
    return value


def check_message(body: dict[str, Any]) -> None:
    """Raise ViberError for a send_message / broadcast_message body Viber would refuse."""
    sender = body.get("sender")
    if not isinstance(sender, dict):
        raise ViberError(4, "sender is required")
    name = _require(sender, "name", "sender.")
    if not isinstance(name, str) or len(name) > MAX_SENDER_NAME:
        raise ViberError(3, f"sender.name must be at most {MAX_SENDER_NAME} characters")
    tracking = body.get("tracking_data")
    if tracking is not None and (
        not isinstance(tracking, str) or len(tracking) > MAX_TRACKING_DATA
    ):
        raise ViberError(3, f"tracking_data must be a string of at most {MAX_TRACKING_DATA}")
    if body.get("keyboard") is not None:
        check_keyboard(body["keyboard"])
        if body.get("type") is None:
            return  # a keyboard on its own, as Viber's SDKs send it (KeyboardMessage: no type)
    kind = _require(body, "type")
    if kind not in MESSAGE_TYPES + MESSAGE_TYPES_ALSO_ACCEPTED:
        raise ViberError(3, f"unknown message type {kind!r}")
    if kind == "text":
        text = _require(body, "text")
        if not isinstance(text, str) or len(text) > MAX_TEXT:
            raise ViberError(3, f"text must be at most {MAX_TEXT} characters")
    elif kind == "picture":
        _media(body)
        if len(str(body.get("text", ""))) > MAX_CAPTION:
            raise ViberError(3, f"picture text must be at most {MAX_CAPTION} characters")
    elif kind == "video":
        _media(body)
        _size(body)
    elif kind == "file":
        _media(body)
        _size(body)
        file_name = _require(body, "file_name")
        if len(str(file_name)) > MAX_FILE_NAME:
            raise ViberError(3, f"file_name must be at most {MAX_FILE_NAME} characters")
    elif kind == "url":
        _media(body)
    elif kind == "location":
        location = _require(body, "location")
        if not isinstance(location, dict) or "lat" not in location or "lon" not in location:
            raise ViberError(4, "location.lat and location.lon are required")
    elif kind == "contact":
        contact = _require(body, "contact")
        if not isinstance(contact, dict) or not contact.get("name"):
            raise ViberError(4, "contact.name and contact.phone_number are required")
        _require(contact, "phone_number", "contact.")
    elif kind == "sticker":
        if not isinstance(_require(body, "sticker_id"), int):
            raise ViberError(3, "sticker_id must be an integer")


#: Keyboards (developers.viber.com "Keyboards"): a grid 6 columns wide, a button 1-2 rows
#: high, at most 24 rows, of which 12 show in portrait; ActionBody is what a reply sends.
KEYBOARD_COLUMNS = 6
MAX_KEYBOARD_BUTTONS = 24 * KEYBOARD_COLUMNS
ACTION_TYPES = ("reply", "open-url", "location-picker", "share-phone", "none")
MAX_ACTION_BODY = 250


def check_keyboard(keyboard: Any) -> None:
    """A message's `keyboard`: {Type: "keyboard", Buttons: [...]}."""
    if not isinstance(keyboard, dict) or keyboard.get("Type") != "keyboard":
        raise ViberError(3, 'keyboard.Type must be "keyboard"')
    buttons = keyboard.get("Buttons")
    if not isinstance(buttons, list) or not 0 < len(buttons) <= MAX_KEYBOARD_BUTTONS:
        raise ViberError(3, "keyboard.Buttons must hold at least one button")
    for button in buttons:
        if not isinstance(button, dict):
            raise ViberError(3, "a keyboard button must be an object")
        columns, rows = button.get("Columns", KEYBOARD_COLUMNS), button.get("Rows", 1)
        if not isinstance(columns, int) or not 1 <= columns <= KEYBOARD_COLUMNS:
            raise ViberError(3, f"Columns must be 1 to {KEYBOARD_COLUMNS}")
        if not isinstance(rows, int) or not 1 <= rows <= 2:
            raise ViberError(3, "Rows must be 1 or 2 in a keyboard")
        if button.get("ActionType", "reply") not in ACTION_TYPES:
            raise ViberError(3, f"ActionType must be one of {', '.join(ACTION_TYPES)}")
        body = _require(button, "ActionBody", "keyboard.Buttons.")
        if not isinstance(body, str) or len(body) > MAX_ACTION_BODY:
            raise ViberError(3, f"ActionBody must be a string of at most {MAX_ACTION_BODY}")


def _media(body: dict[str, Any]) -> None:
    media = _require(body, "media")
    if not isinstance(media, str) or not media.startswith(("http://", "https://")):
        raise ViberError(3, "media must be an http(s) URL")
    if len(media) > MAX_URL:
        raise ViberError(3, f"media URL must be at most {MAX_URL} characters")


def _size(body: dict[str, Any]) -> None:
    size = _require(body, "size")
    if not isinstance(size, int) or size < 0:
        raise ViberError(3, "size must be a non-negative integer (bytes)")
