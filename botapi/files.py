"""`GET /files/telegram/<file_id>/<expires>.<signature>`: an operator's Telegram file, for others.

VK, Viber and Facebook cannot use a Telegram file_id: Viber and Messenger fetch media from a
public URL, and the VK sender downloads it to upload it again. This component serves the file
the operator sent (getFile, then the Bot API's file download) at a link signed with the
bridge's key, so only files the bridge itself handed out can be fetched through it.

Links expire (`LINK_LIFETIME`, 7 days): the outlet makes the link when the reply is queued
(adapters/common/outlet.py) and it travels in the outbox row, which is retried until it is
sent; Viber and Messenger fetch the file when the message is sent, and the VK and Messenger
text fallbacks show the link to the customer. A link that is tampered with answers 403, one
that has expired 410, both before Telegram is asked anything. Links of the first format
(no expiry) stay valid until `LEGACY_LINKS_UNTIL`, for replies queued before the upgrade.

The file is served from the bridge's own origin (which also serves the widget), so nothing in
it may run there: every answer carries `X-Content-Type-Options: nosniff` and
`Content-Security-Policy: default-src 'none'; sandbox`; only bytes that are a JPEG, PNG, GIF or
WebP image (checked by their magic numbers, never by the name) are shown `inline`, as that
image type; everything else is an `attachment` whose type is a harmless one or
application/octet-stream (never HTML, SVG, XML or script). The file is piped through in chunks
(memory stays flat whatever its size) and cut off at `MAX_FILE_BYTES`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import mimetypes
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

import aiohttp
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiohttp import web

from bridge.components import ComponentState
from bridge.web.bodies import describe_size
from bridge.web.untrusted import same_secret

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

PREFIX = "/files/telegram"
#: The largest file served (the cloud Bot API lets a bot download up to 20 MB).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Longest a transfer from the Bot API's file server may take: it is piped to the client, so
#: the client's speed sets its pace (20 MB in 300 s is about 70 KB/s).
DOWNLOAD_TIMEOUT = 300
#: How long a link is valid after it was made (when the reply was queued).
LINK_LIFETIME = 7 * 24 * 3600
#: Links without an expiry (made before expiring links) are accepted until then.
LEGACY_LINKS_UNTIL = datetime(2027, 1, 15, tzinfo=UTC).timestamp()
#: The size of the pieces piped from the Bot API to the client.
CHUNK_BYTES = 64 * 1024
#: What is read before answering, to recognise an image by its first bytes.
SNIFF_BYTES = 16

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, max-age=3600",
}
#: Types kept for a downloaded (attachment) file; anything else is application/octet-stream.
ATTACHMENT_TYPES = frozenset({"application/pdf", "application/zip", "text/plain"})
ATTACHMENT_TYPE_FAMILIES = ("audio/", "video/")
_ASCII_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class TelegramFiles:
    """A component with one route; `link(file_id)` is the outlets' `file_link`."""

    name = "telegram-files"

    def __init__(
        self,
        bot: Bot,
        key: bytes,
        base_url: str | None,
        *,
        lifetime: int = LINK_LIFETIME,
        max_bytes: int = MAX_FILE_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bot = bot
        self._legacy_key = hmac.new(key, b"talker-bridge telegram files", hashlib.sha256).digest()
        self._key = hmac.new(key, b"talker-bridge telegram files v2", hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.lifetime = lifetime
        self.max_bytes = max_bytes
        self._clock = clock
        self._running = False

    def signature(self, file_id: str, expires: int) -> str:
        """The last path segment of a link to `file_id` valid until `expires` (Unix time)."""
        mac = hmac.new(self._key, f"{expires}:{file_id}".encode(), hashlib.sha256)
        return f"{expires}.{mac.hexdigest()[:32]}"

    def link(self, file_id: str) -> str | None:
        """The absolute URL of the file, valid for `lifetime` seconds from now, or None when the
        bridge's address is not known. No I/O; never raises."""
        if self.base_url is None or not file_id or "/" in file_id:
            return None
        expires = int(self._clock()) + self.lifetime
        return f"{self.base_url}{PREFIX}/{file_id}/{self.signature(file_id, expires)}"

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get(PREFIX + "/{file_id}/{signature}", self.serve)]

    def _refusal(self, file_id: str, given: str) -> web.Response | None:
        """403 for a link the bridge did not sign, 410 for an expired one, None when valid."""
        now = self._clock()
        expires_text, dot, _ = given.partition(".")
        if not dot:
            legacy = hmac.new(self._legacy_key, file_id.encode(), hashlib.sha256)
            if not same_secret(given, legacy.hexdigest()[:32]):
                return web.Response(status=403, text="bad signature")
            if now >= LEGACY_LINKS_UNTIL:
                return web.Response(status=410, text="this link has expired")
            return None
        if not (expires_text.isascii() and expires_text.isdigit()) or len(expires_text) > 12:
            return web.Response(status=403, text="bad signature")
        expires = int(expires_text)
        if not same_secret(given, self.signature(file_id, expires)):
            return web.Response(status=403, text="bad signature")
        if now >= expires:
            return web.Response(status=410, text="this link has expired")
        return None

    async def serve(self, request: web.Request) -> web.StreamResponse:
        file_id = request.match_info["file_id"]
        refusal = self._refusal(file_id, request.match_info["signature"])
        if refusal is not None:
            return refusal
        if not self._running:
            return web.Response(status=503, text="not running")
        try:
            file = await self.bot.get_file(file_id)
        except TelegramNetworkError:
            log.warning("getFile of Telegram file %s failed", file_id, exc_info=True)
            return web.Response(status=502, text="Telegram is unreachable")
        except TelegramAPIError as exc:
            log.info("Telegram file %s is not available: %s", file_id, exc)
            return web.Response(status=404, text="no such file")
        if not file.file_path:
            return web.Response(status=404, text="no such file")
        if file.file_size is not None and file.file_size > self.max_bytes:
            log.info("Telegram file %s is not served: %s bytes", file_id, file.file_size)
            return web.Response(status=413, text=f"larger than {describe_size(self.max_bytes)}")
        url = self.bot.session.api.file_url(self.bot.token, file.file_path)
        stream = self.bot.session.stream_content(
            url, timeout=DOWNLOAD_TIMEOUT, chunk_size=CHUNK_BYTES, raise_for_status=True
        )
        async with aclosing(stream) as chunks:
            try:
                head = await _first_bytes(chunks, SNIFF_BYTES)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if isinstance(exc, aiohttp.ClientResponseError) and exc.status == 404:
                    return web.Response(status=404, text="no such file")
                log.warning("download of Telegram file %s failed", file_id, exc_info=True)
                return web.Response(status=502, text="Telegram is unreachable")
            name = file.file_path.rsplit("/", 1)[-1]
            response = web.StreamResponse(headers=file_headers(name, head))
            if file.file_size is not None:
                response.content_length = file.file_size
            await response.prepare(request)
            await self._pipe(request, response, file_id, head, chunks)
        return response

    async def _pipe(
        self,
        request: web.Request,
        response: web.StreamResponse,
        file_id: str,
        head: bytes,
        chunks: AsyncIterator[bytes],
    ) -> None:
        """Write `head` and the rest of `chunks`; past `max_bytes` or on a failed download the
        connection is closed without ending the body, so the client sees it is incomplete."""
        sent = 0
        piece: bytes | None = head
        while piece is not None:
            sent += len(piece)
            if sent > self.max_bytes:
                log.info("Telegram file %s cut off past %s bytes", file_id, self.max_bytes)
                _abort(request)
                return
            try:
                if piece:
                    await response.write(piece)
            except ConnectionError:
                log.debug("Telegram file %s: the client went away", file_id)
                return
            try:
                piece = await anext(chunks, None)
            except (aiohttp.ClientError, TimeoutError):
                log.warning("download of Telegram file %s failed midway", file_id, exc_info=True)
                _abort(request)
                return
        await response.write_eof()

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    def state(self) -> ComponentState:
        return ComponentState("running" if self._running else "stopped")


def _abort(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


async def _first_bytes(chunks: AsyncIterator[bytes], wanted: int) -> bytes:
    """At least `wanted` bytes from the start of `chunks` (fewer only when it ends first)."""
    head = b""
    while len(head) < wanted:
        chunk = await anext(chunks, None)
        if chunk is None:
            break
        head += chunk
    return head


def image_type(head: bytes) -> str | None:
    """The type of a JPEG, PNG, GIF or WebP image by its first bytes; None for anything else
    (SVG included: it is a document that can run script, never shown inline)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(head) >= 12 and head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    return None


_IMAGE_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}


def file_headers(name: str, head: bytes) -> dict[str, str]:
    """The answer's headers for a file called `name` that starts with `head`."""
    image = image_type(head)
    if image is not None:
        stem = name.rsplit(".", 1)[0] if "." in name else name
        disposition = content_disposition("inline", stem + _IMAGE_EXTENSIONS[image])
        return {**SECURITY_HEADERS, "Content-Type": image, "Content-Disposition": disposition}
    guessed = mimetypes.guess_type(name)[0] or ""
    harmless = guessed in ATTACHMENT_TYPES or guessed.startswith(ATTACHMENT_TYPE_FAMILIES)
    content_type = guessed if harmless else "application/octet-stream"
    disposition = content_disposition("attachment", name)
    return {**SECURITY_HEADERS, "Content-Type": content_type, "Content-Disposition": disposition}


def content_disposition(kind: str, name: str) -> str:
    """`kind; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>` (RFC 6266): control and
    format characters (line breaks, bidi overrides) are dropped, the ASCII fallback keeps only
    letters, digits, dots, dashes and underscores, so no name can end the header or add one."""
    clean = "".join(c for c in name if unicodedata.category(c)[0] not in "CZ" or c == " ")
    clean = clean.strip().lstrip(".")[:200] or "file"
    fallback = _ASCII_NAME_UNSAFE.sub("_", clean).strip("_").lstrip(".") or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(clean, safe='')}"
