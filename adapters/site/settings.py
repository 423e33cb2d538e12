"""`channels.site`: the chat widgets on the company's sites, keyed by widget id (used in URLs)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated

from pydantic import Field, field_validator

from config.fields import Name, NonEmptyStr, Origin, Section


class Widget(Section):
    """One chat widget embedded in the pages of `origins`."""

    group: Name
    title: NonEmptyStr
    origins: Annotated[tuple[Origin, ...], Field(min_length=1)]


class SiteSettings(Section):
    """The chat widgets on the company's sites, keyed by widget id (used in URLs)."""

    widgets: Annotated[Mapping[Name, Widget], Field(min_length=1)]

    @field_validator("widgets", mode="after")
    @classmethod
    def _read_only(cls, value: Mapping[str, Widget]) -> Mapping[str, Widget]:
        return MappingProxyType(dict(value))
