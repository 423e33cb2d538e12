"""How the platforms look to operators: their badges and names, collected for the core.

The root gathers each registered platform's look (`Platform.badge`, `.aliases`,
`.display_names`, from `adapters/<platform>/look.py`) into the core's registries: `Badges`
(with the aliases `talker-bridge avatar --channel` accepts) and `PlatformNames`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.avatars.badges import Badges
from bridge.core.platform_names import PlatformNames

if TYPE_CHECKING:
    from bridge.platforms import Registry


def _platforms(platforms: Registry | None) -> Registry:
    from app.platforms import registry

    return registry() if platforms is None else platforms


def platform_badges(platforms: Registry | None = None) -> Badges:
    """The badge of every platform, and the other names a user may type for one."""
    known = [platform for platform in _platforms(platforms) if platform.badge is not None]
    aliases = {alias: platform.name for platform in known for alias in platform.aliases}
    return Badges([platform.badge for platform in known if platform.badge is not None], aliases)


def platform_names(platforms: Registry | None = None) -> PlatformNames:
    """Every platform's name in each language."""
    return PlatformNames(
        {platform.name: platform.display_names for platform in _platforms(platforms)}
    )
