"""Which components a config turns on: the one place that knows every part of the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.components import Component

if TYPE_CHECKING:
    from bridge.core.sink import BridgeSink
    from bridge.platforms import Registry
    from config import BridgeConfig
    from desk.runtime import DeskRuntime


def build_components(
    config: BridgeConfig, *, time_scale: float = 1.0, platforms: Registry | None = None
) -> list[Component]:
    """The components `run` starts for this config, in start order.

    The outbox worker first (it sends what the others enqueue), then the desk's dashboards and
    the Telegram updates intake (operators and Telegram customers), the file links operators'
    files travel by, the background name lookups, then the parts of every enabled customer
    platform of the registry (VK's long poll starts with its adapter; webhooks and the site
    widget are served as routes). Every adapter reports to one `BridgeSink`; its sender is the
    outbox's sender of its platform and its outlet queues the operators' replies. `time_scale`
    speeds the desk's pacing and debounce (and the name lookups' waits) up for benchmarks and
    tests.
    `platforms` defaults to the registry of app/platforms.py (tests add a toy platform).
    """
    from botapi.files import TelegramFiles
    from bridge.core.sink import BridgeSink
    from desk.customer_side import TelegramCustomerRefresh
    from desk.dashboard import Dashboards
    from desk.intake import UpdatesIntake
    from desk.runtime import DeskRuntime
    from desk.worker import OutboxComponent

    runtime = DeskRuntime(config, time_scale=time_scale)
    sink = BridgeSink(
        runtime, refresh=TelegramCustomerRefresh(runtime.desk), time_scale=time_scale
    )
    files = TelegramFiles(runtime, config.widget_signing_key(), bridge_url(config))
    components: list[Component] = [
        OutboxComponent(runtime),
        Dashboards(runtime),
        UpdatesIntake(runtime),
        files,
        sink.names,
    ]
    components.extend(customer_channels(config, runtime, sink, files.link, platforms))
    return components


def bridge_url(config: BridgeConfig) -> str:
    """Where platforms reach the bridge: `http.public_url`, else its own listening address."""
    if config.http.public_url:
        return str(config.http.public_url).rstrip("/")
    host = "127.0.0.1" if config.http.host in ("0.0.0.0", "::", "") else config.http.host
    return f"http://{host}:{config.http.port}"


def customer_channels(
    config: BridgeConfig,
    runtime: DeskRuntime,
    sink: BridgeSink,
    file_link: object,
    platforms: Registry | None = None,
) -> list[Component]:
    """The components of every registered platform whose section `config` turns on.

    Each platform's `build` gives its parts: its sender joins the outbox, its outlet the
    core's outlets, its profile look-ups the background name lookups. A platform without
    `build` needs no parts of its own (Telegram customers write to the desk's bot).
    """
    from app.platforms import registry
    from bridge.platforms import PlatformContext

    context = PlatformContext(
        config=config,
        sink=sink,
        file_link=file_link,  # type: ignore[arg-type]
        leader=runtime.leader,
        transaction=runtime.transaction,
    )
    components: list[Component] = []
    for platform in registry() if platforms is None else platforms:
        section = config.section(platform.name)
        if section is None or platform.build is None:
            continue
        parts = platform.build(section, context)
        runtime.senders[platform.name] = parts.sender
        runtime.outlets.register(platform.name, parts.outlet)
        for channel, profiles in parts.profiles.items():
            sink.names.register(channel, profiles)
        components.extend(parts.components)
    return components
