"""Which components a config turns on: the one place that knows every part of the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.components import Component

if TYPE_CHECKING:
    from config import BridgeConfig


def build_components(config: BridgeConfig) -> list[Component]:
    """The components `run` starts for this config, in start order."""
    components: list[Component] = []
    return components
