"""`AvatarService`: rendered avatars cached in memory, uploads reused by their Telegram file_id.

Two levels, both keyed by the avatar's style (initials, colour, badge, size, drawing version):
1. an LRU of rendered PNG bytes in this process, so a busy feed renders each avatar once;
2. the Telegram `file_id` of the first upload, kept in an `AvatarFileIds` store, so later cards
   send the file_id instead of the bytes. Customers who share initials, colour and platform share
   one upload. Changing the drawing bumps `STYLE_VERSION`, which changes every key.

The desk calls `photo_for(...)`: it gets either a file_id to send, or PNG bytes to upload; after
uploading it calls `remember_upload(key, file_id)`.

Memory (issue 16): a style is drawn only until its first upload is remembered, so the LRU holds
few entries (64 PNGs of ~20 kB); and drawings run on the service's one avatar thread, not on
asyncio's pool: each drawing allocates ~4 MB canvases at 4x, and every thread that draws keeps
its own malloc arena of them (600 avatars drawn on the default pool's threads left a process
~80 MB larger, on one thread ~30 MB).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from bridge.avatars.badges import NO_BADGES, Badges
from bridge.avatars.render import DEFAULT_SIZE, AvatarStyle, render_style


class AvatarFileIds(Protocol):
    """Where uploaded avatars' Telegram file_ids live.

    Contract: `get` returns the file_id stored for `key` or None; `put` stores it, replacing any
    previous one (idempotent). Both may do I/O; both may raise, and the service lets that through.
    """

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, file_id: str) -> None: ...


class MemoryFileIds:
    """`AvatarFileIds` in a dict: for tests and for a single process that may forget on restart."""

    def __init__(self) -> None:
        self.file_ids: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.file_ids.get(key)

    async def put(self, key: str, file_id: str) -> None:
        self.file_ids[key] = file_id


@dataclass(frozen=True)
class AvatarPhoto:
    """What to send as a card's photo: `file_id` when already uploaded, else `png` to upload."""

    key: str
    file_id: str | None = None
    png: bytes | None = None

    @property
    def needs_upload(self) -> bool:
        return self.file_id is None


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    size: int
    capacity: int


class AvatarService:
    """Renders customers' avatars once and remembers their uploads. Thread-safe.

    `badges`: the platforms' badges (the composition root's registry); a channel it does not
    know gets the generic badge of an unknown platform.
    """

    def __init__(
        self,
        file_ids: AvatarFileIds | None = None,
        *,
        badges: Badges = NO_BADGES,
        cache_size: int = 64,
    ) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be at least 1, got {cache_size}")
        self.file_ids: AvatarFileIds = file_ids if file_ids is not None else MemoryFileIds()
        self.badges = badges
        self._capacity = cache_size
        self._pngs: OrderedDict[AvatarStyle, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._drawer: ThreadPoolExecutor | None = None

    def style_for(
        self, name: str | None, *, channel: str, seed: str, size: int = DEFAULT_SIZE
    ) -> AvatarStyle:
        """The avatar style of a customer (`name` None = guest; `seed` = their stable id)."""
        badge = self.badges.of_customer(channel)
        return AvatarStyle.for_customer(name, badge=badge, seed=seed, size=size)

    def key_for(
        self, name: str | None, *, channel: str, seed: str, size: int = DEFAULT_SIZE
    ) -> str:
        """The cache and upload key of a customer's avatar, e.g. 'v1:256:vk:#2563EB:ИП'."""
        return self.style_for(name, channel=channel, seed=seed, size=size).key

    def render(
        self, name: str | None, *, channel: str, seed: str, size: int = DEFAULT_SIZE
    ) -> bytes:
        """PNG bytes of a customer's avatar, rendered at most once per style while cached."""
        return self.render_style(self.style_for(name, channel=channel, seed=seed, size=size))

    def render_style(self, style: AvatarStyle) -> bytes:
        """PNG bytes for `style`, from the LRU when present."""
        with self._lock:
            png = self._pngs.get(style)
            if png is not None:
                self._pngs.move_to_end(style)
                self._hits += 1
                return png
            self._misses += 1
        png = render_style(style)  # outside the lock: rendering takes milliseconds
        with self._lock:
            self._pngs[style] = png
            self._pngs.move_to_end(style)
            while len(self._pngs) > self._capacity:
                self._pngs.popitem(last=False)
        return png

    async def photo_for(
        self, name: str | None, *, channel: str, seed: str, size: int = DEFAULT_SIZE
    ) -> AvatarPhoto:
        """A stored file_id for this avatar, or its PNG bytes (rendered off the event loop)."""
        style = self.style_for(name, channel=channel, seed=seed, size=size)
        file_id = await self.file_ids.get(style.key)
        if file_id:
            return AvatarPhoto(style.key, file_id=file_id)
        return AvatarPhoto(style.key, png=await self.render_async(style))

    async def render_async(self, style: AvatarStyle) -> bytes:
        """`render_style` on this service's one drawing thread (started on first use)."""
        with self._lock:
            if self._drawer is None:
                self._drawer = ThreadPoolExecutor(1, thread_name_prefix="avatars")
            drawer = self._drawer
        return await asyncio.get_running_loop().run_in_executor(drawer, self.render_style, style)

    async def remember_upload(self, key: str, file_id: str) -> None:
        """Store the file_id Telegram gave the upload of `key`, for every later card."""
        if not key or not file_id:
            raise ValueError("remember_upload needs a key and a file_id")
        await self.file_ids.put(key, file_id)

    def cache_clear(self) -> None:
        """Forget every rendered PNG (the stored file_ids stay)."""
        with self._lock:
            self._pngs.clear()
            self._hits = self._misses = 0

    def cache_stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._pngs), self._capacity)
