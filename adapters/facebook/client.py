"""The Graph API calls the Messenger adapter makes, over aiohttp: Send API and user profiles.

The page token travels in the `Authorization: Bearer` header, never as `access_token=` in the
URL, so it stays out of the URLs that proxies, access logs and error messages keep.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp

from adapters.facebook.errors import from_graph, from_http
from bridge.errors import TransientError

PROFILE_FIELDS = "first_name,last_name,profile_pic"


class GraphApi:
    """One Page's Graph API; every call raises only bridge errors."""

    def __init__(
        self, graph_url: str, page_token: str, http: Callable[[], aiohttp.ClientSession]
    ) -> None:
        self.graph_url = graph_url.rstrip("/")
        self._token = page_token
        self._http = http

    async def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """`POST me/messages` → `{recipient_id, message_id}`."""
        return await self._request("POST", f"{self.graph_url}/me/messages", json=body)

    async def profile(self, psid: str) -> dict[str, Any]:
        """`GET <PSID>?fields=first_name,last_name,profile_pic`."""
        return await self._request(
            "GET", f"{self.graph_url}/{psid}", params={"fields": PROFILE_FIELDS}
        )

    async def _request(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            async with self._http().request(method, url, headers=headers, **kwargs) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientError(f"Messenger unreachable: {type(exc).__name__}: {exc}") from exc
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            raise from_http(status, text) from None
        error = answer.get("error") if isinstance(answer, dict) else None
        if isinstance(error, dict):
            code = error.get("code")
            subcode = error.get("error_subcode")
            raise from_graph(
                code if isinstance(code, int) else -1,
                subcode if isinstance(subcode, int) else None,
                str(error.get("message", "")),
            )
        if status != 200 or not isinstance(answer, dict):
            raise from_http(status, text)
        return answer
