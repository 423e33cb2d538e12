"""Which web pages may talk to a widget: its configured `origins` and the bridge's own origin.

Browsers put `Origin` on every WebSocket handshake, every POST and every cross-origin fetch,
and a page cannot forge it; so a request from a foreign site is refused (403) before it reads
or writes anything. A same-origin GET carries no Origin: that is the standalone page on the
bridge itself (or a non-browser client, which still needs a signed token to read anything).
CORS answers name the one allowed origin, never `*`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from aiohttp import web

CORS_HEADERS = "Authorization, Content-Type, X-File-Name"
CORS_METHODS = "GET, POST, OPTIONS"


def origin_of(url: str) -> str:
    """`https://Host:8443/path` → `https://host:8443` (how browsers spell an Origin)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


class OriginPolicy:
    """The origins of one widget, plus the bridge's own (its public URL, or the request's host)."""

    def __init__(self, origins: Iterable[str], public_url: str | None = None) -> None:
        self.origins = frozenset(origin_of(o) for o in origins)
        self.own = origin_of(public_url) if public_url else None

    def allows(self, request: web.Request, origin: str | None) -> bool:
        """True when a request from `origin` (None: the header was absent) may go on."""
        if origin is None:
            return False
        origin = origin.lower()
        if origin in self.origins or origin == self.own:
            return True
        return origin == f"{request.scheme}://{request.host}".lower()

    def check(self, request: web.Request, *, require: bool) -> str | None:
        """The request's allowed Origin (None when absent and not required); else 403.

        `require` is True for writes and the WebSocket, where browsers always send Origin.
        """
        origin = request.headers.get("Origin")
        if origin is None and not require:
            if request.headers.get("Sec-Fetch-Site", "same-origin") not in (
                "same-origin",
                "none",
            ):
                raise web.HTTPForbidden(text="cross-site request without an Origin")
            return None
        if not self.allows(request, origin):
            raise web.HTTPForbidden(text="this site may not use this chat widget")
        return origin


def cors_headers(origin: str | None) -> dict[str, str]:
    """Headers that let the allowed `origin` read the answer (nothing for same-origin calls)."""
    if origin is None:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Headers": CORS_HEADERS,
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
        "Access-Control-Expose-Headers": "Retry-After",
    }
