"""`GET /files/telegram/<file_id>/<signature>`: an operator's Telegram file, for other platforms.

VK, Viber and Facebook cannot use a Telegram file_id: Viber and Messenger fetch media from a
public URL, and the VK sender downloads it to upload it again. This component serves the file
the operator sent (getFile, then the Bot API's file download) at a link signed with the
bridge's key, so only files the bridge itself handed out can be fetched through it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import mimetypes
from contextlib import aclosing
from typing import TYPE_CHECKING

import aiohttp
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiohttp import web

from bridge.components import ComponentState
from bridge.web.bodies import BodyTooLarge, read_limited
from bridge.web.untrusted import same_secret

if TYPE_CHECKING:
    from aiogram import Bot

log = logging.getLogger(__name__)

PREFIX = "/files/telegram"
#: The largest file served (the cloud Bot API lets a bot download up to 20 MB).
MAX_FILE_BYTES = 50 * 1024 * 1024
#: Longest a download from the Bot API's file server may take.
DOWNLOAD_TIMEOUT = 60


class TelegramFiles:
    """A component with one route; `link(file_id)` is the outlets' `file_link`."""

    name = "telegram-files"

    def __init__(self, bot: Bot, key: bytes, base_url: str | None) -> None:
        self.bot = bot
        self._key = hmac.new(key, b"talker-bridge telegram files", hashlib.sha256).digest()
        self.base_url = base_url.rstrip("/") if base_url else None
        self._running = False

    def signature(self, file_id: str) -> str:
        return hmac.new(self._key, file_id.encode(), hashlib.sha256).hexdigest()[:32]

    def link(self, file_id: str) -> str | None:
        """The absolute URL of the file, or None when the bridge's address is not known."""
        if self.base_url is None or not file_id or "/" in file_id:
            return None
        return f"{self.base_url}{PREFIX}/{file_id}/{self.signature(file_id)}"

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get(PREFIX + "/{file_id}/{signature}", self.serve)]

    async def serve(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        given = request.match_info["signature"]
        if not same_secret(given, self.signature(file_id)):
            return web.Response(status=403, text="bad signature")
        bot = self.bot
        if not self._running:
            return web.Response(status=503, text="not running")
        try:
            file = await bot.get_file(file_id)
            if not file.file_path:
                return web.Response(status=404, text="no such file")
            body = await self._download(file.file_path)
        except (TelegramNetworkError, aiohttp.ClientError, TimeoutError) as exc:
            if isinstance(exc, aiohttp.ClientResponseError) and exc.status == 404:
                return web.Response(status=404, text="no such file")
            log.warning("download of Telegram file %s failed", file_id, exc_info=True)
            return web.Response(status=502, text="Telegram is unreachable")
        except TelegramAPIError as exc:
            log.info("Telegram file %s is not available: %s", file_id, exc)
            return web.Response(status=404, text="no such file")
        except BodyTooLarge as exc:
            log.info("Telegram file %s is not served: %s", file_id, exc)
            return web.Response(status=413, text=str(exc))
        name = file.file_path.rsplit("/", 1)[-1]
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.Response(
            body=body,
            content_type=content_type,
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )

    async def _download(self, file_path: str) -> bytes:
        """The whole file from the Bot API's file server, at most MAX_FILE_BYTES."""
        session = self.bot.session
        url = session.api.file_url(self.bot.token, file_path)
        stream = session.stream_content(url, timeout=DOWNLOAD_TIMEOUT, raise_for_status=True)
        async with aclosing(stream) as chunks:
            return await read_limited(chunks, MAX_FILE_BYTES)

    async def start(self) -> None:
        self._running = True

    async def stop(self) -> None:
        self._running = False

    def state(self) -> ComponentState:
        return ComponentState("running" if self._running else "stopped")
