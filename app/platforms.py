"""The platform registry: every customer platform the service knows, one line each.

Adding a platform is one folder (`adapters/<name>/` exporting its `PLATFORM`), one line here
and one example section in config/example.yaml.
"""

from __future__ import annotations

from adapters import facebook, site, telegram, viber, vk
from bridge.platforms import Registry


def registry() -> Registry:
    """The registered platforms, in the order the config, summaries and wiring list them."""
    return Registry(
        [
            telegram.PLATFORM,
            vk.PLATFORM,
            viber.PLATFORM,
            facebook.PLATFORM,
            site.PLATFORM,
        ]
    )
