"""One aiohttp client session per adapter, with timeouts, and a bounded file download."""

from __future__ import annotations

import aiohttp

from bridge.errors import PermanentError, TransientError
from bridge.web.bodies import BodyTooLarge, describe_size, read_limited

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10, sock_read=25)
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


def client_session(timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> aiohttp.ClientSession:
    """A session for platform calls; every request is bounded by `timeout`."""
    return aiohttp.ClientSession(timeout=timeout, raise_for_status=False)


async def download(
    session: aiohttp.ClientSession, url: str, limit: int = MAX_DOWNLOAD_BYTES
) -> tuple[bytes, str | None]:
    """Fetch a whole file (bytes, content type); bridge errors on failure or over `limit`."""
    try:
        async with session.get(url) as response:
            if response.status >= 500:
                raise TransientError(f"download of {url} failed: HTTP {response.status}")
            if response.status != 200:
                raise PermanentError(f"cannot fetch the file: HTTP {response.status}")
            try:
                data = await read_limited(
                    response.content, limit, declared=response.content_length
                )
            except BodyTooLarge:
                raise PermanentError(f"the file is larger than {describe_size(limit)}") from None
            return data, response.content_type
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"download of {url} failed: {type(exc).__name__}: {exc}") from exc
