"""How the platforms are named to operators, in each language: a registry the root hands over.

The core knows no platform: each platform gives its names (`adapters/<platform>/look.py`'s
`DISPLAY_NAMES`, {"en": ..., "ru": ...}), the composition root collects them into one
`PlatformNames`, and the desk shows a channel through it ("vk" -> "ВКонтакте",
"site:shop" -> "Site (shop)"). A platform without names is shown by its own name.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bridge.core.texts import normalize_language


class PlatformNames:
    """Platform -> language -> its name; read-only."""

    def __init__(self, names: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self._names: Mapping[str, Mapping[str, str]] = MappingProxyType(
            {
                platform: MappingProxyType(dict(by_language))
                for platform, by_language in (names or {}).items()
            }
        )

    def name(self, language: str | None, platform: str) -> str:
        """`platform`'s name in `language` (else in English, else the platform's own name)."""
        by_language = self._names.get(platform)
        if not by_language:
            return platform
        return by_language.get(normalize_language(language)) or by_language.get("en") or platform

    def source(self, language: str | None, channel: str) -> str:
        """How a channel is named to operators: "vk" -> "VK", "site:shop" -> "Site (shop)"."""
        family, _, widget = channel.partition(":")
        name = self.name(language, family)
        return f"{name} ({widget})" if widget else name


#: No platform named: every channel shows as itself.
NO_NAMES = PlatformNames()
