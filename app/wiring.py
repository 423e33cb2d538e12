"""Which components a config turns on: the one place that knows every part of the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.components import Component

if TYPE_CHECKING:
    from bridge.core.sink import BridgeSink
    from config import BridgeConfig
    from desk.runtime import DeskRuntime


def build_components(config: BridgeConfig, *, time_scale: float = 1.0) -> list[Component]:
    """The components `run` starts for this config, in start order.

    The outbox worker first (it sends what the others enqueue), then the desk's dashboards and
    the Telegram updates intake (operators and Telegram customers), the file links operators'
    files travel by, the background name lookups, then one adapter per enabled customer
    channel (VK's long poll starts with its adapter; webhooks and the site widget are served
    as routes). Every adapter reports to one `BridgeSink`; its sender is the outbox's sender
    of its platform and its outlet queues the operators' replies. `time_scale` speeds the
    desk's pacing and debounce (and the name lookups' waits) up for benchmarks and tests.
    """
    from app.looks import platform_badges, platform_names
    from app.pacing import customer_pacing
    from botapi.files import TelegramFiles
    from bridge.core.sink import BridgeSink
    from desk.customer_side import TelegramCustomerRefresh
    from desk.dashboard import Dashboards
    from desk.intake import UpdatesIntake
    from desk.runtime import DeskRuntime
    from desk.worker import OutboxComponent

    runtime = DeskRuntime(
        config, time_scale=time_scale, badges=platform_badges(), names=platform_names()
    )
    runtime.pacing.update(customer_pacing(config))
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
    components.extend(customer_channels(config, runtime, sink, files.link))
    return components


def bridge_url(config: BridgeConfig) -> str:
    """Where platforms reach the bridge: `http.public_url`, else its own listening address."""
    if config.http.public_url:
        return str(config.http.public_url).rstrip("/")
    host = "127.0.0.1" if config.http.host in ("0.0.0.0", "::", "") else config.http.host
    return f"http://{host}:{config.http.port}"


def customer_channels(
    config: BridgeConfig, runtime: DeskRuntime, sink: BridgeSink, file_link: object
) -> list[Component]:
    """The adapters of VK, Viber, Facebook and the site widgets that `config` turns on.

    Each one's sender joins the outbox, its outlet the core's outlets, and (when it can look
    customers up) the background name lookups. Telegram customers need no adapter: the desk's
    updates intake serves them with the same bot.
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

        site = SiteChannel(config, sink, telegram_link=file_link)  # type: ignore[arg-type]
        runtime.senders["site"] = site.sender
        runtime.outlets.register("site", SiteOutlet())
        adapters.extend(site.adapters)
    return adapters
