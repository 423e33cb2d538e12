"""Value types shared by the config sections: URLs, origins, ids, non-empty text.

Each type is an `Annotated` alias whose validator raises `PydanticCustomError("config", ...)`
with a message written for an admin; `config.messages` prints that message as is.
"""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict
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


NonEmptyStr = Annotated[str, AfterValidator(_non_empty)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Origin = Annotated[str, AfterValidator(_origin)]
GroupChatId = Annotated[int, AfterValidator(_group_chat_id)]
Name = Annotated[str, AfterValidator(_name)]
