"""One JSON call to a platform API, with every transport failure turned into `CallFailed`."""

from __future__ import annotations

from typing import Any

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=20)


class CallFailed(Exception):
    """The call did not get a JSON answer (unreachable, timeout, not JSON)."""


async def call_json(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    params: dict[str, Any] | None = None,
    json: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(HTTP status, decoded JSON body) of one request; raises `CallFailed` without one."""
    try:
        async with session.request(
            method, url, params=params, json=json, data=data, headers=headers, timeout=TIMEOUT
        ) as response:
            return response.status, await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise CallFailed(f"{type(exc).__name__}: {exc}") from exc
