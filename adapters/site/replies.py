"""An operator's files, kept for the visitor they were sent to.

The widget shows a file only through the visitor's own signed link (`/widget/<id>/files/...`),
so every file of an operator's reply is copied into that visitor's folder of the file store:
bytes that travel with the reply are kept as they are; a file known only by its Telegram
file_id is fetched from the bridge's `/files/telegram/...` link first (the one VK, Viber and
Facebook get, see botapi/files.py). The copy's id is derived from the stored reply
and the file's place in it (tokens.reply_file_id), so a retried delivery finds the copy instead
of making another, and history after a reload links the same file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.common.http import client_session, download
from adapters.site import tokens
from adapters.site.history import FILE_REF_PREFIX
from adapters.site.limits import MAX_REPLY_FILE
from adapters.site.uploads import FileStore, StoredFile, UploadRefused
from bridge.errors import PermanentError

if TYPE_CHECKING:
    import aiohttp

    from bridge.events import Attachment

log = logging.getLogger(__name__)

TelegramLink = Callable[[str], "str | None"]
"""A Telegram file_id → the URL of the bridge that serves it, or None when it has none."""


def reply_key(message_id: int | None, row_id: int | None) -> str:
    """What names a reply for its files: the stored message, else the outbox row."""
    return f"m{message_id}" if message_id is not None else f"r{row_id}"


class ReplyFiles:
    """One widget's copies of operators' files (what `SiteSender` keeps, what history finds)."""

    def __init__(
        self,
        key: bytes,
        widget_id: str,
        store: FileStore,
        telegram_link: TelegramLink | None,
        max_size: int = MAX_REPLY_FILE,
    ) -> None:
        self._key = key
        self.widget_id = widget_id
        self.store = store
        self.telegram_link = telegram_link
        self.max_size = max_size
        self._http: aiohttp.ClientSession | None = None

    def file_id(self, visitor: str, reply: str, index: int) -> str:
        return tokens.reply_file_id(self._key, self.widget_id, visitor, reply, index)

    def find(self, visitor: str, message_id: int, index: int) -> StoredFile | None:
        """The copy of the `index`-th file of stored reply `message_id`, if it was kept."""
        file_id = self.file_id(visitor, reply_key(message_id, None), index)
        found = self.store.find(self.widget_id, visitor, file_id)
        return None if found is None else found[1]

    async def keep(
        self, visitor: str, reply: str, index: int, attachment: Attachment
    ) -> StoredFile | None:
        """The visitor's copy of the file (made now if needed), or None: shown by name only.

        Raises TransientError when the file could not be fetched for now (the outbox retries
        the row); a file that cannot be had at all is logged and shown by name.
        """
        file_id = self.file_id(visitor, reply, index)
        found = self.store.find(self.widget_id, visitor, file_id)
        if found is not None:
            return found[1]
        data, mime = attachment.data, attachment.mime_type
        if data is None:
            fetched = await self._fetch(attachment)
            if fetched is None:
                return None
            data, fetched_type = fetched
            mime = mime or fetched_type
        try:
            return self.store.keep(
                self.widget_id, visitor, file_id, data, attachment.file_name, mime, self.max_size
            )
        except UploadRefused as exc:
            log.warning("site: an operator's file is shown by name only: %s", exc)
            return None

    async def _fetch(self, attachment: Attachment) -> tuple[bytes, str | None] | None:
        ref = attachment.file_ref or ""
        if not ref or ref.startswith(FILE_REF_PREFIX):
            log.debug("site: an operator's file without bytes or a Telegram file_id: by name")
            return None
        url = self.telegram_link(ref) if self.telegram_link else None
        if url is None:
            log.warning("site: no link to the Telegram file %s; shown by name only", ref)
            return None
        if self._http is None or self._http.closed:
            self._http = client_session()
        try:
            return await download(self._http, url, self.max_size)
        except PermanentError as exc:
            log.warning("site: the Telegram file %s is shown by name only: %s", ref, exc)
            return None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
