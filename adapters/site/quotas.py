"""How much visitors may store through the widget: bytes per visitor, per address, per widget.

One file is at most `limits.MAX_UPLOAD` (5 MB) and a visitor may upload a few a minute
(`limits.UPLOADS`), which alone would let one script store tens of gigabytes a day. So:

- a visitor stores at most `VISITOR_UPLOADS` (50 MB) a day: ten full-size files;
- one client address (`adapter.client_address`, behind trusted proxies the real client) at most
  `ADDRESS_UPLOADS` (200 MB) a day, however many visitor tokens it mints;
- a widget keeps at most `WIDGET_STORED` (2 GB) of files on disk in all (visitors' uploads and
  the operators' files kept for them; what the retention jobs delete frees room again).

Over a visitor's or an address's quota: 429 with Retry-After (when enough of the day's bytes
have aged out); over the widget's total: 429 as well, with Retry-After `RESCAN` (room comes
back when retention deletes files, and the folder is read again then). Not 507: a full widget
is the quota holding against whoever filled it, not a fault of the server, and a 5xx would page
whoever watches the error rate. Nothing is written for a refused upload.

Where the figures live: the per-visitor and per-address windows are kept in memory per process
and per widget, so a restart forgets them, N processes each count on their own (at most N times
the quota) and an address writing to two widgets has a quota in each.
The widget's total is read from the files folder itself (rescanned every `RESCAN` seconds, plus
what this process stored since), so it holds across restarts and processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

MB = 1024 * 1024
DAY = 24 * 60 * 60.0


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `limit` bytes over the last `window` seconds."""

    limit: int
    window: float


VISITOR_UPLOADS = Quota(limit=50 * MB, window=DAY)
ADDRESS_UPLOADS = Quota(limit=200 * MB, window=DAY)
WIDGET_STORED = 2 * 1024 * MB  # bytes on disk per widget, in all
RESCAN = 60.0  # seconds between two reads of a widget's folder


class Scope(StrEnum):
    """Whose quota an upload would pass."""

    VISITOR = "visitor"
    ADDRESS = "address"
    WIDGET = "widget"


class OverQuota(Exception):
    """The upload would pass `scope`'s quota; `retry_after` seconds (None: no promise)."""

    def __init__(self, scope: Scope, retry_after: int | None) -> None:
        super().__init__(f"over the {scope} upload quota")
        self.scope = scope
        self.retry_after = retry_after


class ByteWindow:
    """Bytes stored per key over a sliding window (in memory; forgets keys gone quiet)."""

    def __init__(self, quota: Quota, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota = quota
        self._clock = clock
        self._stored: dict[str, deque[tuple[float, int]]] = {}

    def _recent(self, key: str, now: float) -> deque[tuple[float, int]]:
        events = self._stored.get(key)
        if events is None:
            return deque()
        while events and events[0][0] <= now - self.quota.window:
            events.popleft()
        if not events:
            del self._stored[key]
        return events

    def used(self, key: str) -> int:
        return sum(size for _, size in self._recent(key, self._clock()))

    def wait_time(self, key: str, size: int) -> float:
        """0 when `size` more bytes fit now, else the seconds until they will."""
        now = self._clock()
        events = self._recent(key, now)
        excess = sum(n for _, n in events) + size - self.quota.limit
        if excess <= 0:
            return 0.0
        for at, n in events:  # the oldest age out first
            excess -= n
            if excess <= 0:
                return at + self.quota.window - now
        return self.quota.window  # larger than the whole quota: never, say a window

    def add(self, key: str, size: int) -> None:
        now = self._clock()
        self._recent(key, now)
        self._stored.setdefault(key, deque()).append((now, size))
        if len(self._stored) > 50_000:
            for other in list(self._stored):
                self._recent(other, now)


class StoredTotal:
    """Bytes kept under one widget's folder: read from disk now and then, plus what was added."""

    def __init__(
        self, folder: Path, rescan: float = RESCAN, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.folder = folder
        self.rescan = rescan
        self._clock = clock
        self._total = 0
        self._read_at: float | None = None
        #: The one scan under way (concurrent uploads wait for it instead of each walking
        #: the folder), and the bytes added while it walks.
        self._scan: asyncio.Future[None] | None = None
        self._added_during_scan = 0

    async def current(self) -> int:
        now = self._clock()
        if self._scan is None and (self._read_at is None or now - self._read_at >= self.rescan):
            self._added_during_scan = 0
            self._scan = asyncio.ensure_future(self._rescan())
        if self._scan is not None:
            await asyncio.shield(self._scan)
        return self._total

    async def _rescan(self) -> None:
        try:
            scanned = await asyncio.to_thread(folder_size, self.folder)
            # A file stored while the folder was walked may or may not be in `scanned`:
            # count it again rather than forget it (a scan must never lower the total by
            # what concurrent uploads just added).
            self._total = scanned + self._added_during_scan
            self._read_at = self._clock()
        finally:
            self._scan = None

    def add(self, size: int) -> None:
        self._total += size
        if self._scan is not None:
            self._added_during_scan += size


def folder_size(folder: Path) -> int:
    """The bytes of every file under `folder` (0 when it does not exist)."""
    total = 0
    for parent, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(OSError):  # deleted meanwhile by retention
                total += os.lstat(os.path.join(parent, name)).st_size
    return total


class UploadQuotas:
    """`await check(visitor, address, size)` before storing; `add(...)` once stored."""

    def __init__(
        self,
        folder: Path,
        *,
        visitor: Quota = VISITOR_UPLOADS,
        address: Quota = ADDRESS_UPLOADS,
        widget: int = WIDGET_STORED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.visitor = ByteWindow(visitor, clock)
        self.address = ByteWindow(address, clock)
        self.widget_limit = widget
        self.stored = StoredTotal(folder, clock=clock)

    async def check(self, visitor: str, address: str, size: int) -> None:
        """Raise OverQuota when `size` more bytes would pass a quota (nothing is counted).

        Its only wait comes first: a caller that stores and `add`s right after it returns,
        without awaiting in between, cannot be overtaken by a concurrent upload."""
        stored = await self.stored.current()
        for scope, window, key in (
            (Scope.VISITOR, self.visitor, visitor),
            (Scope.ADDRESS, self.address, address),
        ):
            wait = window.wait_time(key, size)
            if wait > 0:
                raise OverQuota(scope, max(1, math.ceil(wait)))
        if stored + size > self.widget_limit:
            raise OverQuota(Scope.WIDGET, None)

    def add(self, visitor: str, address: str, size: int) -> None:
        self.visitor.add(visitor, size)
        self.address.add(address, size)
        self.stored.add(size)
