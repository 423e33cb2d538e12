"""What the config needs to know of a customer platform, handed in by the composition root.

`config` imports no adapter: the caller of `parse_config` passes one `PlatformSchema` per
registered platform (app/config.py passes the registry's), keyed by its key under `channels:`.
The schema says how to validate the section, which channels it turns on and which group
each names, and the platform's own checks that span sections. Hooks that read raw data get
the section as written (after `${VAR}`), only when it is a section, and answer with paths
relative to it; they look only at values of the right shape and leave shape errors to the
section model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from config.paths import Path, Problem

Raw = Mapping[str, Any]
"""A section as written in the file, after `${VAR}` substitution; not validated yet."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Someone who calls the bridge's `http.public_url` because a section is on.

    `name` is how messages name them (`vk callback`, `the site widget`); `real` is True when
    the calls come from a platform's real servers, which only call https addresses.
    """

    name: str
    real: bool = False


def _one_channel(name: str, section: Any) -> Iterable[tuple[str, str]]:
    return [(name, section.group)]


def _group_key(raw: Raw) -> Iterable[Path]:
    return [("group",)]


def _nothing(raw: Raw) -> list[Any]:
    return []


@dataclass(frozen=True, slots=True)
class PlatformSchema:
    """One platform's part of the config (`channels.<name>`).

    `channels(section)` lists the channels a validated section turns on with the operators'
    group each names (default: one channel named like the platform, `section.group`);
    `group_paths(raw)` the keys that name a group, for the unknown-group check; `rules(raw)`
    the platform's cross-key problems; `callers(raw)` who then calls `http.public_url`;
    `summary(section)` its words in `check-config`'s line; `sample_secrets` the example
    file's sample values it refuses (relative key path -> (sample, what to put instead)).
    """

    name: str
    section: type[BaseModel]
    channels: Callable[[Any], Iterable[tuple[str, str]]] | None = None
    group_paths: Callable[[Raw], Iterable[Path]] = _group_key
    rules: Callable[[Raw], list[Problem]] = _nothing
    callers: Callable[[Raw], list[Caller]] = _nothing
    summary: Callable[[Any], str] | None = None
    sample_secrets: Mapping[Path, tuple[str, str]] = field(default_factory=dict)

    def channels_of(self, section: Any) -> list[tuple[str, str]]:
        """(channel, group name) for each channel a validated section turns on."""
        if self.channels is None:
            return list(_one_channel(self.name, section))
        return list(self.channels(section))

    def summary_of(self, section: Any) -> str:
        return self.name if self.summary is None else self.summary(section)


def raw_text(raw: Raw, key: str, model: type[BaseModel]) -> str:
    """`raw[key]` when it is text, else the model's default for `key` (an API URL, say)."""
    value = raw.get(key)
    if isinstance(value, str):
        return value
    return str(model.model_fields[key].default)


def host_of(url: str) -> str:
    """The host name of `url` ('' when it has none)."""
    return urlsplit(url).hostname or ""
