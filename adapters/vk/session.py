"""A requests.Session for vk_api that talks to a configurable VK API URL, with a timeout.

vk_api hard-codes `https://api.vk.ru/method/` (older releases `https://api.vk.com/method/`) in
`VkApi.method` and sets no timeout. `VkApiSession` rewrites those prefixes to
`{api_url}/method/` and applies `timeout` to every request that does not set its own, so the same
vk_api code runs against VK or the fake VK:

    session = VkApiSession("http://127.0.0.1:8080/vk")
    vk = vk_api.VkApi(token=token, session=session, api_version="5.199")
    set_community_pace(vk)          # 20 requests/s for a community token

Long-poll and upload URLs that VK hands out are absolute and are used as given.
"""

from __future__ import annotations

from typing import Any

import requests

VK_METHOD_PREFIXES = ("https://api.vk.ru/method/", "https://api.vk.com/method/")
COMMUNITY_REQUESTS_PER_SECOND = 20  # dev.vk.com/ru/api/api-requests (user tokens: 3/s)


class VkApiSession(requests.Session):
    """Send vk_api's method calls to `api_url` (e.g. "https://api.vk.ru" or the fake's root)."""

    def __init__(self, api_url: str, timeout: float = 30) -> None:
        super().__init__()
        if not api_url.startswith(("http://", "https://")):
            raise ValueError(f"VK api_url must be an http(s) URL, got {api_url!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout

    def method_url(self, url: str) -> str:
        """`url` with VK's hard-coded method prefix replaced by this session's API URL."""
        for prefix in VK_METHOD_PREFIXES:
            if url.startswith(prefix):
                return f"{self.api_url}/method/{url[len(prefix) :]}"
        return url

    def request(self, method: str, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str):
            url = self.method_url(url)
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def set_community_pace(
    vk: Any, requests_per_second: float = COMMUNITY_REQUESTS_PER_SECOND
) -> None:
    """Make a `vk_api.VkApi` pace itself for a community token (vk_api defaults to 3/s).

    vk_api sleeps `RPS_DELAY` seconds between calls (0.34 s, the user-token pace); a community
    token may make 20 calls a second. `vk_api.VkApiGroup` is the same class with 1/20 s.
    """
    if requests_per_second <= 0:
        raise ValueError("requests_per_second must be positive")
    vk.RPS_DELAY = 1.0 / requests_per_second
