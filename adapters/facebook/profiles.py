"""Who a Messenger customer is: the User Profile API, cached; refused → a guest.

Accounts made with a phone number have no profile (100/2018218) and apps without Advanced
Access get a permission error: either way the customer stays a guest and is not asked again.
"""

from __future__ import annotations

import logging

from adapters.facebook.client import GraphApi
from bridge.errors import PermanentError
from bridge.events import CustomerProfile

log = logging.getLogger(__name__)


class FacebookProfiles:
    """A cache of profiles backed by `GET <PSID>`."""

    def __init__(self, api: GraphApi, cache_size: int = 10_000) -> None:
        self._api = api
        self._cache: dict[str, CustomerProfile | None] = {}
        self._cache_size = cache_size

    def drop(self, psid: str) -> bool:
        """Forget the cached profile of `psid` (a data-deletion request); True if cached."""
        return self._cache.pop(psid, False) is not False

    async def lookup(self, psid: str) -> CustomerProfile | None:
        """The profile, or None when Meta refuses it (raises transient bridge errors)."""
        if psid in self._cache:
            return self._cache[psid]
        try:
            answer = await self._api.profile(psid)
        except PermanentError as exc:
            log.info("Messenger: no profile for %s (%s): a guest", psid, exc.reason)
            profile = None
        else:
            first, last = answer.get("first_name"), answer.get("last_name")
            picture = answer.get("profile_pic")
            profile = CustomerProfile(
                first_name=first if isinstance(first, str) and first else None,
                last_name=last if isinstance(last, str) and last else None,
                avatar_url=picture if isinstance(picture, str) and picture else None,
            )
            if profile.full_name is None:
                profile = None
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[psid] = profile
        return profile
