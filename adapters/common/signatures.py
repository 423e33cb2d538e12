"""HMAC signatures of webhook bodies, compared in constant time (Viber, Facebook)."""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(key: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of the raw body."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(key: str, body: bytes, given: str | None, prefix: str = "") -> bool:
    """Whether `given` is `prefix` + the body's HMAC-SHA256 under `key` (constant time).

    A missing or empty header never matches. Both sides are compared as ASCII bytes, so a
    header with non-ASCII characters is simply a mismatch, never an exception.
    """
    if not given or not key:
        return False
    expected = (prefix + hmac_sha256_hex(key, body)).encode()
    try:
        supplied = given.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, supplied)
