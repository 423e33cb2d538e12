"""Per-visitor rate and size limits; a refusal says how long to wait (429 + Retry-After).

Token buckets kept in memory per process: with several processes behind a load balancer each
one limits on its own, so the effective limit is at most the number of processes times this.
"""

from __future__ import annotations

import math

from aiohttp import web

from bridge.rates import KeyedBuckets, Rate

__all__ = ["Rate", "RateLimiter"]

MAX_TEXT = 4000  # characters in one visitor message
MAX_NAME = 64  # characters in the visitor's name
MAX_UPLOAD = 5 * 1024 * 1024  # bytes in one file
MAX_REPLY_FILE = 20 * 1024 * 1024  # bytes in one operator's file (what a bot may download)
MAX_ATTACHMENTS = 5  # files in one message


MESSAGES = Rate(per_minute=20, burst=8)
UPLOADS = Rate(per_minute=6, burst=4)
NEW_VISITORS = Rate(per_minute=10, burst=20)  # per client address
CONNECTIONS = Rate(per_minute=30, burst=10)  # WebSocket handshakes per visitor
#: Conversations a widget's visitors may open (per widget, not per visitor or address): each new
#: one posts a card into the group, whose Telegram budget is about 20 posts a minute, so a script
#: minting visitors takes at most half of it and real customers' messages keep flowing.
#: Visitors who already have an open conversation are never held back by it.
NEW_CONVERSATIONS = Rate(per_minute=10, burst=10)


class RateLimiter(KeyedBuckets):
    """Token buckets keyed by visitor (or address), refusing with 429 (bridge/rates.py)."""

    def check(self, key: str) -> None:
        """Raise 429 with Retry-After when `key` is over its rate."""
        wait = self.wait_time(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise web.HTTPTooManyRequests(
                headers={"Retry-After": str(seconds)},
                text=f"too many requests, retry after {seconds}s",
            )
