"""vk_api, run in threads: every VK method call and upload, off the event loop, paced.

vk_api is synchronous (requests), so each call runs in `asyncio.to_thread`. vk_api paces its
own calls under a lock (`RPS_DELAY`), set here to the community token's limit (20/s by
default), which keeps every thread together under VK's per-token limit. Its built-in
"too many requests" handler (sleep and retry forever) is removed: error 6 becomes
`RetryAfter`, and the outbox decides.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import vk_api
import vk_api.upload

from adapters.vk.errors import translate
from adapters.vk.session import VkApiSession, set_community_pace

API_VERSION = "5.199"


class VkClient:
    """One community token's VK API; every method raises only bridge errors."""

    def __init__(
        self,
        token: str,
        api_url: str = "https://api.vk.ru",
        *,
        requests_per_second: float = 20,
        timeout: float = 30,
    ) -> None:
        if not token:
            raise ValueError("a VK community token is required")
        self.api_url = api_url.rstrip("/")
        self.session = VkApiSession(self.api_url, timeout)
        self._vk = vk_api.VkApi(token=token, session=self.session, api_version=API_VERSION)
        set_community_pace(self._vk, requests_per_second)
        self._vk.error_handlers.pop(vk_api.exceptions.TOO_MANY_RPS_CODE, None)
        self._upload = vk_api.upload.VkUpload(self._vk)

    async def call(self, method: str, **params: Any) -> Any:
        """Call a VK method (`response` part of the answer)."""
        values = {k: v for k, v in params.items() if v is not None}
        return await self._in_thread(self._vk.method, method, values)

    async def upload_photo(self, data: bytes, file_name: str, peer_id: int) -> str:
        """Upload a picture for a message to `peer_id`; returns its attachment string."""
        photo = _named(data, file_name or "photo.jpg")
        saved = await self._in_thread(self._upload.photo_messages, photo, peer_id)
        item = saved[0]
        return _attachment_string("photo", item)

    async def upload_document(
        self, data: bytes, file_name: str, peer_id: int, doc_type: str | None = None
    ) -> str:
        """Upload a file (or an `audio_message`) for a message; returns its attachment string."""
        doc = _named(data, file_name or "file.bin")
        saved = await self._in_thread(
            self._upload.document, doc, file_name or None, None, None, False, peer_id, doc_type
        )
        kind = saved.get("type", "doc")
        return _attachment_string(kind, saved[kind])

    async def _in_thread(self, func: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(func, *args)
        except Exception as exc:
            raise translate(exc) from exc

    def close(self) -> None:
        self.session.close()


def _named(data: bytes, file_name: str) -> io.BytesIO:
    buffer = io.BytesIO(data)
    buffer.name = file_name
    return buffer


def _attachment_string(kind: str, item: dict[str, Any]) -> str:
    """`photo{owner}_{id}[_{access_key}]` — how messages.send names an attachment."""
    text = f"{kind}{item['owner_id']}_{item['id']}"
    if item.get("access_key"):
        text += f"_{item['access_key']}"
    return text
