"""What a request sends, read without crashing: JSON bodies and secrets from headers.

Anything a stranger can send must end in a 4xx, never a 5xx. Two things used to escape:

- `json.loads` raises `RecursionError` (not `ValueError`) on a deeply nested body, such as
  `[` × 100 000, which fits easily in a webhook's 1 MB cap;
- aiohttp hands header bytes that are not UTF-8 over as lone surrogates (`\\udcff`), which
  `str.encode()` refuses, so comparing such a header with `.encode()` raised.

`parse_json` turns both failures of the parser into `NotJson` (a `ValueError`); `same_secret`
compares in constant time and is simply False for a header it cannot encode.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any


class NotJson(ValueError):
    """A body that is not JSON, or nested too deeply to parse."""


def parse_json(raw: bytes | str) -> Any:
    """The JSON value of `raw`; `NotJson` for bad bytes, bad JSON or too deep a nesting."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise NotJson("the JSON is nested too deeply") from None
    except ValueError as exc:  # also UnicodeDecodeError
        raise NotJson(str(exc)) from None


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """What follows `Bearer ` in the Authorization header (as sent); None for another scheme
    or no header."""
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    return token if scheme.lower() == "bearer" else None


def same_secret(given: str | None, expected: str) -> bool:
    """Whether `given` equals `expected` (constant time); False when either is empty or `given`
    cannot be encoded (undecodable header bytes arrive as lone surrogates)."""
    if not given or not expected:
        return False
    try:
        # surrogateescape gives undecodable header bytes back exactly as they were sent
        supplied = given.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(supplied, expected.encode())
