"""Which components a config turns on: the one place that knows every part of the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.components import Component

if TYPE_CHECKING:
    from config import BridgeConfig


def build_components(config: BridgeConfig, *, time_scale: float = 1.0) -> list[Component]:
    """The components `run` starts for this config, in start order.

    The outbox worker first (it sends what the others enqueue), then the desk's dashboards and
    the Telegram updates intake (operators and Telegram customers). `time_scale` speeds the
    desk's pacing and debounce up for benchmarks and tests against fakes that scale too.
    """
    from bridge.desk.dashboard import Dashboards
    from bridge.desk.intake import UpdatesIntake
    from bridge.desk.runtime import DeskRuntime
    from bridge.desk.worker import OutboxComponent

    runtime = DeskRuntime(config, time_scale=time_scale)
    components: list[Component] = [
        OutboxComponent(runtime),
        Dashboards(runtime),
        UpdatesIntake(runtime),
    ]
    return components
