"""Who a Viber customer is: the name Viber sends with each message, else `get_user_details`.

Viber allows about two `get_user_details` per user per 12 hours, so every answer (and every
name seen in a callback) is cached and the API is asked at most once per user per process.
"""

from __future__ import annotations

from adapters.viber.client import ViberApi
from bridge.events import CustomerProfile


class ViberProfiles:
    """A cache of profiles filled by callbacks, backed by `get_user_details`."""

    def __init__(self, api: ViberApi, cache_size: int = 10_000) -> None:
        self._api = api
        self._cache: dict[str, CustomerProfile | None] = {}
        self._cache_size = cache_size
        self.api_calls = 0

    def remember(self, user: str, profile: CustomerProfile | None) -> None:
        if profile is None and user in self._cache:
            return
        if len(self._cache) >= self._cache_size and user not in self._cache:
            self._cache.pop(next(iter(self._cache)))
        self._cache[user] = profile

    async def lookup(self, user: str) -> CustomerProfile | None:
        """The cached profile, or one `get_user_details` call (raises bridge errors)."""
        if user in self._cache:
            return self._cache[user]
        self.api_calls += 1
        answer = await self._api.call("get_user_details", {"id": user})
        details = answer.get("user")
        profile = None
        if isinstance(details, dict):
            name, avatar = details.get("name"), details.get("avatar")
            language = details.get("language")
            if isinstance(name, str) and name.strip():
                profile = CustomerProfile(
                    display_name=name,
                    avatar_url=avatar if isinstance(avatar, str) and avatar else None,
                    language=language if isinstance(language, str) and language else None,
                )
        self.remember(user, profile)
        return profile
