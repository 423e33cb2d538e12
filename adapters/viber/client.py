"""Viber's REST API over aiohttp: `POST {api_url}/{endpoint}` with the auth token header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp

from adapters.viber.errors import from_http, from_status
from bridge.errors import TransientError


class ViberApi:
    """One bot's API; every call raises only bridge errors."""

    def __init__(
        self, api_url: str, token: str, http: Callable[[], aiohttp.ClientSession]
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._token = token
        self._http = http

    async def call(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        """The answer of a successful call (`status` 0)."""
        headers = {"X-Viber-Auth-Token": self._token}
        try:
            async with self._http().post(
                f"{self.api_url}/{endpoint}", json=body, headers=headers
            ) as response:
                if response.status != 200:
                    raise from_http(response.status)
                # json.loads keeps 64-bit message tokens as exact ints (never floats).
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TransientError(f"Viber unreachable: {type(exc).__name__}: {exc}") from exc
        if not isinstance(answer, dict):
            raise TransientError(f"Viber answered {answer!r:.200}")
        status = answer.get("status")
        if status != 0:
            code = status if isinstance(status, int) else -1
            raise from_status(code, str(answer.get("status_message", "")))
        return answer
