"""Who a VK customer is: `users.get`, cached; deleted or banned accounts stay guests."""

from __future__ import annotations

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

    async def lookup(self, user: str) -> CustomerProfile | None:
        """The profile of VK user `user`; None when deactivated (raises bridge errors)."""
        if user in self._cache:
            return self._cache[user]
        if not user.isdigit():
            return None
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
