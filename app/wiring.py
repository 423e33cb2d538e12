"""Which components a config turns on: the one place that knows every part of the service.

`build_service` makes the process's one `Runtime` (bridge/runtime.py), the desk on it, and the
components, and registers the outbox's senders, handlers and the customer outlets on it, here
and nowhere else (no registration by import, no module-level registry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bridge.components import Component

if TYPE_CHECKING:
    from app.service import Service
    from bridge.core.sink import BridgeSink
    from bridge.runtime import Runtime
    from config import BridgeConfig
    from desk.runtime import DeskRuntime


def build_service(
    config: BridgeConfig,
    *,
    time_scale: float = 1.0,
    host: str | None = None,
    port: int | None = None,
    extra: Sequence[Component] = (),
) -> Service:
    """The service `run` starts for this config: its runtime and components (plus `extra`)."""
    from app.service import Service

    runtime, desk = build_runtime(config, time_scale=time_scale)
    components = build_components(config, runtime, desk, time_scale=time_scale)
    return Service(config, [*components, *extra], runtime=runtime, host=host, port=port)


def build_runtime(config: BridgeConfig, *, time_scale: float = 1.0) -> tuple[Runtime, DeskRuntime]:
    """The process's runtime and the desk on it, with Telegram's sender, outlet and handlers.

    The service and the stand-alone worker (app/run_worker.py) both start from this, so a row
    completes the same way whichever process sends it.
    """
    from adapters.telegram.outlet import TelegramOutlet
    from app.looks import platform_badges, platform_names
    from app.pacing import pacing_policy
    from botapi.sender import TelegramCalls
    from bridge.runtime import Runtime
    from desk.alarm import DeskAlarm
    from desk.handlers import register_desk_handlers
    from desk.runtime import DeskRuntime

    runtime = Runtime(
        config.database,
        policy=pacing_policy(config, time_scale=time_scale),
        time_scale=time_scale,
        backoff_max=config.outbox.max_backoff_seconds,
        alarm_after_seconds=config.outbox.alarm_after_seconds,
    )
    desk = DeskRuntime(runtime, config, badges=platform_badges(), names=platform_names())
    runtime.alarm = DeskAlarm(lambda: desk.desk)
    runtime.senders["telegram"] = TelegramCalls(desk.bot)
    runtime.outlets.register("telegram", TelegramOutlet())
    register_desk_handlers(runtime.handlers, desk.desk)
    return runtime, desk


def build_components(
    config: BridgeConfig, runtime: Runtime, desk: DeskRuntime, *, time_scale: float = 1.0
) -> list[Component]:
    """The components `run` starts for this config, in start order.

    The desk's bot first (so it closes last, after the worker's last call), the outbox worker
    (it sends what the others enqueue), then the desk's dashboards and the Telegram updates
    intake (operators and Telegram customers), the file links operators' files travel by, the
    background name lookups, then one adapter per enabled customer channel (VK's long poll
    starts with its adapter; webhooks and the site widget are served as routes). Every adapter
    reports to one `BridgeSink`; its sender is the outbox's sender of its platform and its
    outlet queues the operators' replies. `time_scale` speeds the desk's pacing and debounce
    (and the name lookups' waits) up for benchmarks and tests.
    """
    from botapi.files import TelegramFiles
    from bridge.core.sink import BridgeSink
    from bridge.outbox.component import OutboxComponent
    from desk.customer_side import TelegramCustomerRefresh
    from desk.dashboard import Dashboards

    sink = BridgeSink(desk, refresh=TelegramCustomerRefresh(desk.desk), time_scale=time_scale)
    files = TelegramFiles(desk.bot, config.widget_signing_key(), bridge_url(config))
    components: list[Component] = [
        desk,
        OutboxComponent(runtime),
        Dashboards(desk),
        telegram_updates(config, desk, sink),
        files,
        sink.names,
    ]
    components.extend(customer_channels(config, runtime, sink, files.link))
    return components


def telegram_updates(config: BridgeConfig, runtime: DeskRuntime, sink: BridgeSink) -> Component:
    """The one bot's updates intake: the operators' desk, then the Telegram customers (when
    `channels.telegram` is on; their outlet is registered by `build_runtime`)."""
    from adapters.telegram.customers import TelegramCustomers
    from botapi.updates import UpdatesIntake
    from desk import routers

    intake = UpdatesIntake(runtime)
    routers.install(intake, runtime)
    if config.channels.telegram is not None:
        TelegramCustomers(sink).install(intake)
    return intake


def bridge_url(config: BridgeConfig) -> str:
    """Where platforms reach the bridge: `http.public_url`, else its own listening address."""
    if config.http.public_url:
        return str(config.http.public_url).rstrip("/")
    host = "127.0.0.1" if config.http.host in ("0.0.0.0", "::", "") else config.http.host
    return f"http://{host}:{config.http.port}"


def customer_channels(
    config: BridgeConfig, runtime: Runtime, sink: BridgeSink, file_link: object
) -> list[Component]:
    """The adapters of VK, Viber, Facebook and the site widgets that `config` turns on.

    Each one's sender joins the outbox, its outlet the core's outlets, and (when it can look
    customers up) the background name lookups. Telegram customers are served by the desk's bot:
    `telegram_updates` installs them on the same updates intake.
    """
    from adapters.common.outlet import PlatformOutlet

    channels = config.channels
    adapters: list[Component] = []
    if channels.vk is not None:
        from adapters.vk.adapter import VkAdapter
        from adapters.vk.settings import VkSettings
        from bridge.cursors import StoredCursor

        vk_settings = VkSettings.from_section(channels.vk)
        ts_store = StoredCursor(runtime.transaction, f"vk:longpoll:ts:{vk_settings.group_id}")
        adapters.append(VkAdapter(vk_settings, sink, leader=runtime.leader, ts_store=ts_store))
    if channels.viber is not None:
        from adapters.viber.adapter import ViberAdapter
        from adapters.viber.settings import ViberSettings

        adapters.append(ViberAdapter(ViberSettings.from_section(channels.viber), sink))
    if channels.facebook is not None:
        from adapters.facebook.adapter import FacebookAdapter
        from adapters.facebook.settings import FacebookSettings

        adapters.append(FacebookAdapter(FacebookSettings.from_section(channels.facebook), sink))
    for adapter in adapters:
        channel: str = adapter.channel  # type: ignore[attr-defined]
        runtime.senders[channel] = adapter.sender  # type: ignore[attr-defined]
        runtime.outlets.register(channel, PlatformOutlet(channel, file_link))  # type: ignore[arg-type]
        sink.names.register(channel, adapter)
    if channels.site is not None:
        from adapters.site import SiteChannel, SiteOutlet

        site = SiteChannel(
            config,
            sink,
            sessions=runtime.session,
            telegram_link=file_link,  # type: ignore[arg-type]
        )
        runtime.senders["site"] = site.sender
        runtime.outlets.register("site", SiteOutlet())
        adapters.extend(site.adapters)
    return adapters
