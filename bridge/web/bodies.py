"""Reading bodies whole, with a running byte cap: request bodies, downloads, webhook routes.

`StreamReader.read(n)` returns what is buffered, not `n` bytes: a body that arrives in several
TCP writes (chunked, or a slow client) is cut short. `read_limited` reads to the end and counts
while it reads, so nothing larger than its cap is ever held, whether or not the sender declared
a Content-Length. aiohttp's request bodies and client responses are both `StreamReader`s.

Every route of the service has a cap: `limit_bodies` (a middleware of app/service.py) refuses a
declared Content-Length over the route's cap with 413 before anything is read, then reads the
body whole under the cap (413 when it grows past it) before the handler runs, so an over-cap
webhook changes nothing. A handler marked with `body_limit(n)` gets `n` instead of the
default; one marked `reads_itself=True` reads its own body with `read_limited` (the widget's
routes, which check the visitor's token first and answer errors with CORS headers). A handler
behind the middleware reads its body with `request.read()`, `.json()` or `.text()` (the bytes
already read); `request.content` is empty by then unless it is marked `reads_itself`.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import StreamReader, web
from aiohttp.typedefs import Handler, Middleware

#: The cap of a route that names none: every platform's webhook (updates are small).
DEFAULT_BODY_LIMIT = 1024 * 1024

_ATTRIBUTE = "_talker_bridge_body_limit"

H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])


class BodyTooLarge(ValueError):
    """A body or download is larger than its cap; `size` is what was seen when reading stopped."""

    def __init__(self, limit: int, size: int) -> None:
        super().__init__(f"the body is larger than {describe_size(limit)} (at least {size} bytes)")
        self.limit = limit
        self.size = size


def describe_size(size: int) -> str:
    """`size` bytes for people: "5 MB", "64 KB", "10 bytes"."""
    for unit, name in ((1024 * 1024, "MB"), (1024, "KB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size} bytes"


async def read_limited(
    source: StreamReader | AsyncIterable[bytes], limit: int, *, declared: int | None = None
) -> bytes:
    """Every byte of `source` up to its end; `BodyTooLarge` as soon as more than `limit` came
    (or when the `declared` length, a Content-Length, is already over it: nothing is read)."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, declared)
    chunks = source.iter_any() if isinstance(source, StreamReader) else source
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit, len(body))
    return bytes(body)


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """A route's cap; `reads_itself`: the handler reads the body with `read_limited`."""

    limit: int
    reads_itself: bool = False


def body_limit(limit: int, *, reads_itself: bool = False) -> Callable[[H], H]:
    """Mark a route handler with its own cap (see the module docstring)."""

    def mark(handler: H) -> H:
        setattr(handler, _ATTRIBUTE, BodyLimit(limit, reads_itself))
        return handler

    return mark


def limit_of(handler: object, default: int = DEFAULT_BODY_LIMIT) -> BodyLimit:
    """The cap `handler` was marked with, else `default`."""
    found = getattr(handler, _ATTRIBUTE, None)
    return found if isinstance(found, BodyLimit) else BodyLimit(default)


def limit_bodies(default: int = DEFAULT_BODY_LIMIT) -> Middleware:
    """The middleware that gives every route its cap (413 over it, the handler never runs)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        rule = limit_of(request.match_info.handler, default)
        if rule.reads_itself or not request.body_exists:
            return await handler(request)
        declared = request.content_length
        if declared is not None and declared > rule.limit:
            raise web.HTTPRequestEntityTooLarge(max_size=rule.limit, actual_size=declared)
        # aiohttp's own `read()` reads to the end and counts against `client_max_size` as it
        # goes (413 past it); the handler then gets the same bytes from `read()`/`json()`.
        request = request.clone(client_max_size=rule.limit)
        await request.read()
        return await handler(request)

    return middleware
