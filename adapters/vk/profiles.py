"""Who a VK customer is: `users.get`, cached; deleted or banned accounts stay guests.

VK allows a community token about 20 calls a second (vk_api paces them, adapters/vk/client.py),
so a burst of new customers queues their lookups. One lookup per customer at a time: whoever
asks while it runs shares it, and it goes on (filling the cache) when a waiter gives up. An
incoming message waits only for the lookup it started (`for_message`): while one is already
running for that customer, their next messages go in at once, as a guest for now (the name
fills in when the lookup ends: the core asks `lookup` again later).
"""

from __future__ import annotations

import asyncio
import logging

from adapters.vk.client import VkClient
from bridge.events import CustomerProfile

log = logging.getLogger(__name__)


class VkProfiles:
    """Looks up names with `users.get` and remembers them for the life of the process."""

    def __init__(self, client: VkClient, cache_size: int = 10_000) -> None:
        self._client = client
        self._cache: dict[str, CustomerProfile | None] = {}
        self._cache_size = cache_size
        self._running: dict[str, asyncio.Task[CustomerProfile | None]] = {}

    async def lookup(self, user: str) -> CustomerProfile | None:
        """The profile of VK user `user`; None when deactivated (raises bridge errors)."""
        if user in self._cache:
            return self._cache[user]
        if not user.isdigit():
            return None
        return await asyncio.shield(self._lookup_task(user))

    async def for_message(self, user: str) -> CustomerProfile | None:
        """`lookup` for an incoming message: None at once while a lookup of `user` already
        runs (started by an earlier message; it goes on and fills the cache)."""
        if user not in self._cache and user in self._running:
            return None
        return await self.lookup(user)

    async def close(self) -> None:
        """Cancel the lookups still running (the adapter stops)."""
        running = list(self._running.values())
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _lookup_task(self, user: str) -> asyncio.Task[CustomerProfile | None]:
        task = self._running.get(user)
        if task is None:
            task = asyncio.create_task(self._fetch(user), name=f"vk users.get {user}")
            self._running[user] = task
            task.add_done_callback(lambda done: self._finished(user, done))
        return task

    def _finished(self, user: str, task: asyncio.Task[CustomerProfile | None]) -> None:
        self._running.pop(user, None)
        if not task.cancelled() and task.exception() is not None:  # retrieved: waiters have it
            log.debug("VK: users.get %s failed: %s", user, task.exception())

    async def _fetch(self, user: str) -> CustomerProfile | None:
        answer = await self._client.call("users.get", user_ids=user, fields="photo_200")
        profile = None
        if isinstance(answer, list) and answer and isinstance(answer[0], dict):
            item = answer[0]
            if item.get("deactivated"):
                log.debug("VK user %s is %s: stays a guest", user, item["deactivated"])
            else:
                profile = CustomerProfile(
                    first_name=item.get("first_name") or None,
                    last_name=item.get("last_name") or None,
                    username=item.get("screen_name") or None,
                    avatar_url=item.get("photo_200") or None,
                )
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[user] = profile
        return profile
