"""Reading a webhook body safely: raw bytes → a JSON object, or a clear `MalformedPayload`.

Every webhook handler answers `MalformedPayload` with a 4xx and stores nothing, so a platform
(or an attacker) sending garbage can never cause a 5xx or reach the core.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from bridge.web.bodies import DEFAULT_BODY_LIMIT
from bridge.web.untrusted import NotJson, parse_json

#: A webhook body's cap (the service's default route cap, bridge/web/bodies.py).
MAX_WEBHOOK_BYTES = DEFAULT_BODY_LIMIT


class MalformedPayload(ValueError):
    """The body is not what the platform documents (bad JSON, a field of the wrong type…)."""


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object; `MalformedPayload` for anything else."""
    try:
        data = parse_json(raw)
    except NotJson as exc:
        raise MalformedPayload(f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MalformedPayload("body must be a JSON object")
    return data


def field(
    data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str = ""
) -> Any:
    """`data[key]` when present and of `kind` (bool never passes as int); else MalformedPayload."""
    if not isinstance(data, Mapping):
        raise MalformedPayload(f"{where or 'body'} must be an object")
    value = data.get(key)
    if (
        value is None
        or not isinstance(value, kind)
        or (isinstance(value, bool) and bool not in _kinds(kind))
    ):
        name = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise MalformedPayload(f"{where + '.' if where else ''}{key} must be a {name}")
    return value


def optional(
    data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str = ""
) -> Any:
    """`data[key]` checked like `field`, or None when absent (or null)."""
    if not isinstance(data, Mapping):
        raise MalformedPayload(f"{where or 'body'} must be an object")
    if data.get(key) is None:
        return None
    return field(data, key, kind, where)


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


async def read_body(request: web.Request, limit: int = MAX_WEBHOOK_BYTES) -> bytes:
    """The whole raw body, refusing anything larger than `limit` (413). aiohttp's `read()`
    reads to the end, counting against the route's cap as it goes (bridge/web/bodies.py)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    raw = await request.read()
    if len(raw) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(raw))
    return raw
