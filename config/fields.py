"""Value types shared by the config sections: URLs, origins, ids, non-empty text, durations.

Each type is an `Annotated` alias whose validator raises `PydanticCustomError("config", ...)`
with a message written for an admin; `config.messages` prints that message as is.
"""

from __future__ import annotations

import ipaddress
import math
import re
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, PlainSerializer
from pydantic_core import PydanticCustomError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_-]+$")


class Section(BaseModel):
    """Base of every config section: immutable, unknown keys refused, numbers accepted as text.

    `coerce_numbers_to_str` lets a secret or code that happens to be all digits in YAML
    (`confirmation: 12345678`) be read as the text it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", coerce_numbers_to_str=True)


def fail(message: str) -> PydanticCustomError:
    """An error whose message `config.messages` shows to the admin unchanged."""
    return PydanticCustomError("config", message)


def _non_empty(value: str) -> str:
    if not value.strip():
        raise fail("must not be empty")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(f"not an http(s) URL: {value!r} (write it like https://host/path)")
    if parts.query or parts.fragment:
        raise fail(f"the URL must not have a query or fragment: {value!r}")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise fail(f"bad port in URL {value!r}") from None
    return value.rstrip("/")


def _origin(value: str) -> str:
    parts = urlsplit(value)
    port_ok = True
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or "*" in value
    ):
        hint = ""
        if parts.scheme in ("http", "https") and parts.netloc and port_ok:
            hint = f" (did you mean '{parts.scheme}://{parts.netloc.lower()}'?)"
        raise fail(f"an origin is scheme://host[:port], got {value!r}{hint}")
    if parts.path == "/":
        raise fail(
            f"an origin has no path, not even '/': got {value!r} "
            f"(did you mean '{parts.scheme}://{parts.netloc.lower()}'?)"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _group_chat_id(value: int) -> int:
    if value >= 0:
        raise fail(
            f"a group's chat_id is negative (supergroups look like -100...), got {value}; "
            "a positive id is a user, not a group"
        )
    return value


def _name(value: str) -> str:
    if not NAME_PATTERN.match(value):
        raise fail(f"{value!r} is not a valid name: use letters, digits, '_' and '-'")
    return value


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_HINT = "write e.g. 45s, 5m, 2h, 1d or a number of seconds"


def _duration(value: Any) -> timedelta:
    """`45s`, `5m`, `2h`, `1d` or a number of seconds -> a positive timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool) or value is None or isinstance(value, dict | list):
        raise fail(f"not a duration ({_DURATION_HINT})")
    elif isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value.strip().lower())
        if match is not None:
            seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        else:
            try:
                seconds = float(value.strip())
            except ValueError:
                raise fail(f"not a duration: {value!r} ({_DURATION_HINT})") from None
    else:
        raise fail(f"not a duration ({_DURATION_HINT})")
    if not math.isfinite(seconds) or seconds <= 0:
        raise fail(f"must be a positive duration, got {value!r} ({_DURATION_HINT})")
    if seconds > timedelta.max.total_seconds() / 2:
        raise fail(f"too long a duration: {value!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """A duration as the config writes it: `90d`, `30m`, `45s`, `1.5s`."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s" if seconds.is_integer() else f"{seconds:g}s"


def _proxy_network(value: Any) -> str:
    if not isinstance(value, str):
        raise fail("must be an address or a network, e.g. 10.0.0.5 or 10.0.0.0/8")
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise fail(
            f"not an IP address or network: {value!r} (e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
        ) from None


NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]
#: An IPv4/IPv6 address or network (`10.0.0.5`, `10.0.0.0/8`), kept in its normal form.
ProxyNetwork = Annotated[str, BeforeValidator(_proxy_network)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Origin = Annotated[str, AfterValidator(_origin)]
GroupChatId = Annotated[int, AfterValidator(_group_chat_id)]
Name = Annotated[str, AfterValidator(_name)]
#: A positive duration: `45s`, `5m`, `2h`, `1d`, or a number of seconds (`90`, `0.5`).
Duration = Annotated[
    timedelta, BeforeValidator(_duration), PlainSerializer(format_duration, return_type=str)
]
