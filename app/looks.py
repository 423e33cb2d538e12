"""How the platforms look to operators: their badges and names, collected for the core.

Until the platform registry lists every platform's `look`, this is where the root gathers
each `adapters/<platform>/look.py` into the core's registries: `Badges` (with the aliases
`talker-bridge avatar --channel` accepts) and `PlatformNames`.
"""

from __future__ import annotations

from types import ModuleType

from bridge.avatars.badges import Badges
from bridge.core.platform_names import PlatformNames


def looks() -> tuple[ModuleType, ...]:
    """Every platform's look module, in the order the README lists the platforms."""
    from adapters.facebook import look as facebook
    from adapters.site import look as site
    from adapters.telegram import look as telegram
    from adapters.viber import look as viber
    from adapters.vk import look as vk

    return (telegram, vk, viber, facebook, site)


def platform_badges() -> Badges:
    """The badge of every platform, and the other names a user may type for one."""
    modules = looks()
    aliases = {alias: module.BADGE.name for module in modules for alias in module.ALIASES}
    return Badges([module.BADGE for module in modules], aliases)


def platform_names() -> PlatformNames:
    """Every platform's name in each language."""
    return PlatformNames({module.BADGE.name: module.DISPLAY_NAMES for module in looks()})
