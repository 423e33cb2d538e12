"""VK's method and error catalogue (condensed from VK's JSON Schema 5.199) and parameter checks.

The fake answers like VK: unknown method → error 3, a group token on a user-only method →
error 27, a missing required parameter or a value of the wrong type or size → error 100 naming
the parameter. Parameters the schema does not list are ignored, as VK ignores them.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

PARAM_ERROR = "One of the parameters specified was missing or invalid"
# Where VK answers an over-long value with a dedicated error instead of error 100.
LENGTH_ERRORS = {("messages.send", "message"): 914}


class VkError(Exception):
    """A VK API error: becomes `{"error": {error_code, error_msg, request_params}}`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message


@cache
def spec() -> dict[str, Any]:
    """The condensed schema shipped as package data (`sandbox/vk/spec.json`)."""
    text = resources.files("sandbox.vk").joinpath("spec.json").read_text(encoding="utf-8")
    return json.loads(text)


def error_description(code: int) -> str:
    """VK's description for an error code, from errors.json."""
    for err in spec()["errors"].values():
        if err["code"] == code:
            return str(err["description"])
    return "Unknown error occurred"


def vk_error(code: int, detail: str = "") -> VkError:
    """An error with VK's own description, optionally followed by `: detail` as VK does."""
    base = error_description(code)
    return VkError(code, f"{base}: {detail}" if detail else base)


def param_error(name: str, reason: str = "is missing or invalid") -> VkError:
    return VkError(100, f"{PARAM_ERROR}: {name} {reason}")


def method_spec(name: str) -> dict[str, Any]:
    """The schema entry of a method; error 3 when VK has no such method."""
    entry = spec()["methods"].get(name)
    if entry is None:
        raise vk_error(3)
    return entry


def check_params(method: str, params: dict[str, str], token_type: str) -> dict[str, Any]:
    """Validate `params` against the schema of `method`; return them typed (ints, lists, bools)."""
    entry = method_spec(method)
    allowed = entry["access_token_type"]
    if allowed and token_type not in allowed:
        if token_type == "group":
            raise vk_error(27, "method is unavailable with group auth.")
        raise vk_error(15, f"method is unavailable with {token_type} auth.")
    typed: dict[str, Any] = {}
    for name, rule in entry["parameters"].items():
        raw = params.get(name)
        if raw is None or raw == "":
            if rule.get("required"):
                raise param_error(name)
            continue
        code = LENGTH_ERRORS.get((method, name))
        if code and len(raw) > rule.get("maxLength", len(raw)):
            raise vk_error(code)
        typed[name] = _typed_value(name, raw, rule)
    return typed


def _typed_value(name: str, raw: str, rule: dict[str, Any]) -> Any:
    kind = rule.get("type", "string")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds:
        items = [part for part in raw.split(",") if part != ""]
        if "maxItems" in rule and len(items) > rule["maxItems"]:
            raise param_error(name, f"is too long (maximum {rule['maxItems']} items)")
        return items
    if kinds == ["integer"]:
        try:
            value: Any = int(raw)
        except ValueError:
            raise param_error(name, "not integer") from None
        if "minimum" in rule and value < rule["minimum"]:
            raise param_error(name, f"should be greater or equal to {rule['minimum']}")
        if "maximum" in rule and value > rule["maximum"]:
            raise param_error(name, f"should be less or equal to {rule['maximum']}")
        return value
    if kinds == ["number"]:
        try:
            return float(raw)
        except ValueError:
            raise param_error(name, "not a number") from None
    if kinds == ["boolean"]:
        if raw not in ("0", "1", "true", "false", "True", "False"):
            raise param_error(name, "not a boolean")
        return raw in ("1", "true", "True")
    if "enum" in rule and "integer" not in kinds and raw not in [str(v) for v in rule["enum"]]:
        raise param_error(name, f"should be one of {', '.join(map(str, rule['enum']))}")
    if "maxLength" in rule and len(raw) > rule["maxLength"]:
        raise param_error(name, f"is too long (maximum {rule['maxLength']} characters)")
    return raw
