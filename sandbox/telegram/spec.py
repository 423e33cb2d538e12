"""Checks Bot API calls against the published spec (`api.json`, Bot API 10.1, shipped here).

`ApiSpec.validate(method, params)` rejects what the real server rejects, in Telegram's error shape:
unknown parameter, missing required parameter, wrong type, and the limits written in the fields'
descriptions ("1-4096 characters after entities parsing", "1-64 bytes", ...). Form and query values
arrive as strings, so they are coerced per the declared type; JSON-serialised objects are decoded
and checked recursively against the spec's types (required fields, unknown fields, limits).
Unlike the real server, unknown parameters are rejected, so that a client's own bugs show.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sandbox.telegram.entities import PARSE_MODES, EntityParseError, parse, utf16_len
from sandbox.telegram.errors import ApiError, bad_request

_RANGE = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_DISCRIMINATOR = re.compile(r'(?:must be|always) "?([a-z_]+)"?')
_INT = re.compile(r"-?\d+")
_FLOAT = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")

# Telegram's own wording for the limits a bot hits most; others get a generic description.
_LIMIT_ERRORS = {
    ("sendMessage", "text", "long"): "message is too long",
    ("editMessageText", "text", "long"): "message is too long",
    ("sendMessage", "text", "short"): "message text is empty",
    ("editMessageText", "text", "short"): "message text is empty",
    ("InlineKeyboardButton", "callback_data", "long"): "BUTTON_DATA_INVALID",
    ("InlineKeyboardButton", "callback_data", "short"): "BUTTON_DATA_INVALID",
    ("createForumTopic", "name", "long"): "TOPIC_NAME_INVALID",
    ("createForumTopic", "name", "short"): "TOPIC_NAME_INVALID",
    ("editForumTopic", "name", "long"): "TOPIC_NAME_INVALID",
    ("answerCallbackQuery", "text", "long"): "MESSAGE_TOO_LONG",
}
_MISSING_ERRORS = {"text": "message text is empty", "chat_id": "chat_id is empty"}


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    types: tuple[str, ...]
    required: bool
    description: str

    @property
    def length_range(self) -> tuple[int, int, str] | None:
        match = _RANGE.search(self.description)
        if not match:
            return None
        return int(match.group(1)), int(match.group(2)), match.group(3)


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A multipart file part."""

    name: str
    filename: str
    content_type: str
    data: bytes


class ApiSpec:
    """The methods and types of the Bot API, loaded from api.json."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw["version"]
        self.methods: dict[str, dict[str, Any]] = raw["methods"]
        self.types: dict[str, dict[str, Any]] = raw["types"]
        self._by_lower = {name.lower(): name for name in self.methods}

    def method_name(self, name: str) -> str | None:
        """The spec's spelling of a method (Telegram matches names case-insensitively)."""
        return self._by_lower.get(name.lower())

    def fields(self, owner: str) -> dict[str, Field]:
        entry = self.methods.get(owner) or self.types[owner]
        return {
            f["name"]: Field(f["name"], tuple(f["types"]), f["required"], f["description"])
            for f in entry.get("fields", [])
        }

    def validate(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Return `params` coerced to the spec's types, or raise ApiError (400)."""
        return _Validator(self, method).check_object(method, params, top=True)


@cache
def load_spec() -> ApiSpec:
    """The shipped api.json, parsed once."""
    text = resources.files("sandbox.telegram").joinpath("api.json").read_text("utf-8")
    return ApiSpec(json.loads(text))


class _Validator:
    def __init__(self, spec: ApiSpec, method: str) -> None:
        self.spec = spec
        self.method = method

    def check_object(self, owner: str, value: dict[str, Any], *, top: bool) -> dict[str, Any]:
        fields = self.spec.fields(owner)
        for name in value:
            if name not in fields:
                if top:
                    raise bad_request(f'unknown parameter "{name}" for method {owner}')
                raise bad_request(f'unknown field "{name}" in {owner}')
        out: dict[str, Any] = {}
        for name, spec_field in fields.items():
            if name not in value or value[name] is None:
                if spec_field.required:
                    reason = _MISSING_ERRORS.get(name, f"{name} is empty") if top else None
                    raise bad_request(reason or f'field "{name}" of {owner} is required')
                continue
            out[name] = self.check_value(spec_field, value[name], owner)
        for name, spec_field in fields.items():
            if name in out and isinstance(out[name], str):
                self.check_length(owner, spec_field, out)
        return out

    def check_length(self, owner: str, spec_field: Field, values: dict[str, Any]) -> None:
        limits = spec_field.length_range
        if limits is None:
            return
        low, high, unit = limits
        text = values[spec_field.name]
        mode_field = "parse_mode" if spec_field.name in ("text", "caption") else None
        mode_field = mode_field or f"{spec_field.name}_parse_mode"
        parse_mode = values.get(mode_field)
        if parse_mode is not None:
            if parse_mode not in PARSE_MODES:
                raise bad_request(f"unsupported parse_mode {parse_mode!r}")
            try:
                text = parse(text, parse_mode).text
            except EntityParseError as error:
                raise bad_request(f"can't parse entities: {error}") from error
        if unit == "bytes":
            size = len(text.encode("utf-8"))
        elif spec_field.name in ("text", "caption"):
            size = utf16_len(text)  # Telegram counts a message's characters in UTF-16 units
        else:
            size = len(text)
        if low <= size <= high:
            return
        direction = "long" if size > high else "short"
        reason = _LIMIT_ERRORS.get((owner, spec_field.name, direction))
        if reason is None and spec_field.name == "caption" and direction == "long":
            reason = "message caption is too long"
        raise bad_request(
            reason or f'"{spec_field.name}" must be {low}-{high} {unit}, got {size} {unit}'
        )

    def check_value(self, spec_field: Field, value: Any, owner: str) -> Any:
        errors: list[str] = []
        for type_name in spec_field.types:
            try:
                return self.coerce(type_name, value, spec_field.name)
            except _Mismatch as mismatch:
                errors.append(str(mismatch))
        expected = " or ".join(spec_field.types)
        detail = f" ({errors[0]})" if errors and errors[0] else ""
        raise bad_request(f'field "{spec_field.name}" must be {expected}{detail}')

    def coerce(self, type_name: str, value: Any, name: str) -> Any:
        if type_name.startswith("Array of "):
            items = _decode_json(value, list)
            inner = type_name.removeprefix("Array of ")
            return [self.coerce(inner, item, name) for item in items]
        if type_name == "Integer":
            if isinstance(value, bool):
                raise _Mismatch("")
            if isinstance(value, int):
                return value
            if isinstance(value, str) and _INT.fullmatch(value.strip()):
                return int(value)
            raise _Mismatch("")
        if type_name == "Float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            if isinstance(value, str) and _FLOAT.fullmatch(value.strip()):
                return float(value)
            raise _Mismatch("")
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
                return value.lower() in ("true", "1")
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise _Mismatch("")
        if type_name == "String":
            if isinstance(value, str):
                return value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(value)
            raise _Mismatch("")
        if type_name == "InputFile":
            if isinstance(value, (UploadedFile, str)):
                return value
            raise _Mismatch("")
        return self.coerce_object(type_name, value)

    def coerce_object(self, type_name: str, value: Any) -> dict[str, Any]:
        obj = _decode_json(value, dict)
        entry = self.spec.types.get(type_name)
        if entry is None:
            raise _Mismatch(f"unknown type {type_name}")
        subtypes = entry.get("subtypes")
        if subtypes:
            candidates = [t for t in subtypes if self._discriminator_matches(t, obj)]
            last: ApiError | None = None
            for candidate in candidates:
                try:
                    return self.check_object(candidate, obj, top=False)
                except ApiError as error:
                    last = error
            raise _Mismatch(last.description.removeprefix("Bad Request: ") if last else "")
        try:
            return self.check_object(type_name, obj, top=False)
        except ApiError as error:
            if error.description.startswith("Bad Request: BUTTON_DATA_INVALID"):
                raise
            raise _Mismatch(error.description.removeprefix("Bad Request: ")) from error

    def _discriminator_matches(self, type_name: str, obj: dict[str, Any]) -> bool:
        type_field = self.spec.fields(type_name).get("type")
        if type_field is None:
            return True
        match = _DISCRIMINATOR.search(type_field.description)
        return match is None or obj.get("type") == match.group(1)


class _Mismatch(Exception):
    pass


def _decode_json(value: Any, kind: type) -> Any:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as error:
            raise _Mismatch("can't parse JSON") from error
    if not isinstance(value, kind):
        raise _Mismatch(f"expected a JSON {'array' if kind is list else 'object'}")
    return value
