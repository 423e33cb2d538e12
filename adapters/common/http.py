"""One aiohttp client session per adapter, with timeouts, and a bounded file download."""

from __future__ import annotations

import aiohttp

from bridge.errors import PermanentError, TransientError

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=30, connect=10, sock_read=25)
MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024


def client_session(timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> aiohttp.ClientSession:
    """A session for platform calls; every request is bounded by `timeout`."""
    return aiohttp.ClientSession(timeout=timeout, raise_for_status=False)


async def download(
    session: aiohttp.ClientSession, url: str, limit: int = MAX_DOWNLOAD_BYTES
) -> tuple[bytes, str | None]:
    """Fetch a file (bytes, content type); bridge errors on failure or when over `limit`."""
    try:
        async with session.get(url) as response:
            if response.status >= 500:
                raise TransientError(f"download of {url} failed: HTTP {response.status}")
            if response.status != 200:
                raise PermanentError(f"cannot fetch the file: HTTP {response.status}")
            if response.content_length and response.content_length > limit:
                raise PermanentError(f"the file is larger than {limit // (1024 * 1024)} MB")
            data = await response.content.read(limit + 1)
            if len(data) > limit:
                raise PermanentError(f"the file is larger than {limit // (1024 * 1024)} MB")
            return data, response.content_type
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"download of {url} failed: {type(exc).__name__}: {exc}") from exc
