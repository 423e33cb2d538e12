"""Pydantic's validation errors rewritten as one readable problem per key.

The admin sees `telegram.tokn: unknown key 'tokn' (did you mean 'token'?)`, never a pydantic
dump. Unknown keys get the nearest known name (difflib); enum errors list the allowed values.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from config.paths import Path, Problem


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """One problem per pydantic error, with key paths as in the file."""
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if loc and loc[-1] == "[key]":
            problems.append((loc[:-1], _message_for_key(item)))
            continue
        message = _message(item, root, loc)
        if message is not None:
            problems.append((loc, message))
    return problems


def _message_for_key(item: Mapping[str, Any]) -> str:
    if item["type"] == "config":
        return str(item["msg"])
    return f"bad name: {item['msg']}"


def _message(item: Mapping[str, Any], root: type[BaseModel], loc: Path) -> str | None:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    if kind == "config":
        return str(item["msg"])
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), _known_keys(root, loc[:-1]))
    if kind == "literal_error":
        allowed = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"must be one of: {', '.join(allowed)} (got {_describe(value)})"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, got {_describe(value)}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"must be a number, got {_describe(value)}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {_describe(value)}"
    if kind in ("string_type", "string_unicode"):
        return f"must be text, got {_describe(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type", "mapping_type"):
        return f"must be a section of 'key: value' lines, got {_describe(value)}"
    if kind in ("list_type", "tuple_type", "iterable_type"):
        return f"must be a list, got {_describe(value)}"
    if kind == "too_short":
        if isinstance(value, list | tuple | dict) and len(value) >= ctx.get("min_length", 1):
            return None  # every item was invalid, and each was reported on its own
        return "must not be empty"
    bounds = {
        "greater_than": ("greater than", "gt"),
        "greater_than_equal": ("at least", "ge"),
        "less_than": ("less than", "lt"),
        "less_than_equal": ("at most", "le"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"must be {words} {_describe(ctx.get(key))}, got {_describe(value)}"
    text = str(item["msg"])
    return text[:1].lower() + text[1:]


def _unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key {key!r} (did you mean {close[0]!r}?)"
    if known:
        return f"unknown key {key!r} (known keys here: {', '.join(known)})"
    return f"unknown key {key!r}"


def _known_keys(root: type[BaseModel], parent: Path) -> list[str]:
    """The field names of the section at `parent`, found by walking the models' annotations."""
    annotation: Any = root
    for part in parent:
        model = _model_in(annotation)
        if model is not None:
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
            continue
        mapping_value = _mapping_value(annotation)
        if mapping_value is None:
            return []
        annotation = mapping_value  # `part` is a key of a mapping such as `groups`
    model = _model_in(annotation)
    return list(model.model_fields) if model is not None else []


def _members(annotation: Any) -> list[Any]:
    """`X | None` -> [X]; `Annotated[X, ...]` -> [X]; anything else -> [itself]."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [
            member
            for arg in typing.get_args(annotation)
            if arg is not type(None)
            for member in _members(arg)
        ]
    return [annotation]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for member in _members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _mapping_value(annotation: Any) -> Any:
    for member in _members(annotation):
        origin = typing.get_origin(member)
        if isinstance(origin, type) and issubclass(origin, Mapping):
            return typing.get_args(member)[1]
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a section"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return repr(shown)
    return str(value)
