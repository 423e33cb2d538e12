"""Which components a config turns on: the one place that knows every part of the service.

`build_service` makes the process's one `Runtime` (bridge/runtime.py), the desk on it, and the
components, and registers the outbox's senders, handlers and the customer outlets on it, here
and nowhere else (no registration by import, no module-level registry).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bridge.components import Component

if TYPE_CHECKING:
    from app.service import Service
    from botapi.updates import UpdatesIntake
    from bridge.core.ratings import Ratings
    from bridge.core.sink import BridgeSink
    from bridge.platforms import Registry
    from bridge.retention import Retention
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
    platforms: Registry | None = None,
) -> Service:
    """The service `run` starts for this config: its runtime and components (plus `extra`).

    `platforms` defaults to the registry of app/platforms.py (tests add a toy platform).
    """
    from app.service import Service

    runtime, desk = build_runtime(config, time_scale=time_scale, platforms=platforms)
    components = build_components(
        config, runtime, desk, time_scale=time_scale, platforms=platforms
    )
    return Service(config, [*components, *extra], runtime=runtime, host=host, port=port)


def build_runtime(
    config: BridgeConfig, *, time_scale: float = 1.0, platforms: Registry | None = None
) -> tuple[Runtime, DeskRuntime]:
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
    from desk.cards_waiting import CardsWaiting
    from desk.handlers import register_desk_handlers
    from desk.runtime import DeskRuntime

    cards_waiting = CardsWaiting(config, time_scale=time_scale)
    runtime = Runtime(
        config.database,
        policy=pacing_policy(
            config, time_scale=time_scale, platforms=platforms, cards_waiting=cards_waiting
        ),
        time_scale=time_scale,
        backoff_max=config.outbox.max_backoff_seconds,
        alarm_after_seconds=config.outbox.alarm_after_seconds,
        delivery_timeout=config.outbox.delivery_timeout_seconds,
    )
    desk = DeskRuntime(
        runtime, config, badges=platform_badges(platforms), names=platform_names(platforms)
    )
    cards_waiting.sessions = runtime.session
    desk.cards_waiting = cards_waiting
    runtime.alarm = DeskAlarm(lambda: desk.desk)
    runtime.senders["telegram"] = TelegramCalls(desk.bot)
    runtime.outlets.register("telegram", TelegramOutlet())
    register_desk_handlers(runtime.handlers, desk.desk)
    return runtime, desk


def build_components(
    config: BridgeConfig,
    runtime: Runtime,
    desk: DeskRuntime,
    *,
    time_scale: float = 1.0,
    platforms: Registry | None = None,
) -> list[Component]:
    """The components `run` starts for this config, in start order.

    The desk's bot first (so it closes last, after the worker's last call), the outbox worker
    (it sends what the others enqueue), then the desk's dashboards and the Telegram updates
    intake (operators and Telegram customers), the file links operators' files travel by, the
    background name lookups, then the parts of every enabled platform of the registry (VK's
    long poll starts with its adapter; webhooks and the site widget are served as routes).
    Every adapter reports to one `BridgeSink`; its sender is the outbox's sender of its
    platform and its outlet queues the operators' replies. `time_scale` speeds the desk's
    pacing and debounce (and the name lookups' waits) up for benchmarks and tests.
    """
    from botapi.files import TelegramFiles
    from bridge.core.sink import BridgeSink
    from bridge.core.sink_batches import InboundBatches
    from bridge.outbox.component import OutboxComponent
    from bridge.retention import Retention
    from desk.customer_side import TelegramCustomerRefresh
    from desk.dashboard import Dashboards

    sink = BridgeSink(
        desk,
        refresh=TelegramCustomerRefresh(desk.desk),
        time_scale=time_scale,
        ratings=customer_ratings(config, runtime, desk),
    )
    # issue 16: every channel's messages through one group commit (bridge/core/sink_batches.py)
    ingest = InboundBatches(sink, "inbound")
    sink.use_batches(ingest)
    files = TelegramFiles(desk.bot, config.widget_signing_key(), bridge_url(config))
    intake = desk_updates(desk)
    components: list[Component] = [
        desk,
        OutboxComponent(runtime),
        Dashboards(desk),
        *([desk.cards_waiting] if desk.cards_waiting is not None else []),
        intake,
        files,
        sink.names,
        ingest,
    ]
    retention = Retention(config.retention, sessions=runtime.session, leader=runtime.leader)
    components.extend(
        customer_channels(config, runtime, sink, files.link, platforms, intake, retention)
    )
    components.append(retention)
    components.extend(helpdesk_jobs(config, runtime, desk, time_scale=time_scale))
    return components


def helpdesk_jobs(
    config: BridgeConfig, runtime: Runtime, desk: DeskRuntime, *, time_scale: float = 1.0
) -> list[Component]:
    """The SLA reminders and the auto-close (bridge/helpdesk), when a group configures them."""
    from bridge.helpdesk import Helpdesk, wanted

    if not wanted(config):
        return []
    jobs = Helpdesk(
        config,
        transaction=runtime.transaction,
        sessions=runtime.session,
        leader=runtime.leader,
        desk=desk.desk,
        outlets=runtime.outlets,
        time_scale=time_scale,
    )
    return [jobs]


def customer_ratings(config: BridgeConfig, runtime: Runtime, desk: DeskRuntime) -> Ratings:
    """Customers' ratings and comments (issue 15), thanked through the runtime's outlets."""
    from bridge.core.ratings import Ratings
    from bridge.core.texts import CustomerTexts

    return Ratings(
        runtime.outlets,
        desk.desk,
        CustomerTexts(config.texts.override),
        language=config.language,
        ask=config.close.rating,
    )


def desk_updates(runtime: DeskRuntime) -> UpdatesIntake:
    """The one bot's updates intake with the operators' desk installed (and its dead letters'
    replayer); the Telegram customers' side is installed after it by their platform's `build`
    (adapters/telegram/platform.py)."""
    from botapi.updates import UPDATE_SOURCE, UpdatesIntake
    from desk import routers

    intake = UpdatesIntake(runtime)
    routers.install(intake, runtime)
    runtime.dead_letters.register(UPDATE_SOURCE, intake.replay)
    return intake


def bridge_url(config: BridgeConfig) -> str:
    """Where platforms reach the bridge: `http.public_url`, else its own listening address."""
    if config.http.public_url:
        return str(config.http.public_url).rstrip("/")
    host = "127.0.0.1" if config.http.host in ("0.0.0.0", "::", "") else config.http.host
    return f"http://{host}:{config.http.port}"


def customer_channels(
    config: BridgeConfig,
    runtime: Runtime,
    sink: BridgeSink,
    file_link: Callable[[str], str | None],
    platforms: Registry | None = None,
    bot_updates: UpdatesIntake | None = None,
    retention: Retention | None = None,
) -> list[Component]:
    """The components of every registered platform whose section `config` turns on.

    Each platform's `build` gives its parts: its sender joins the outbox, its outlet the
    core's outlets, its profile look-ups the background name lookups, the files it keeps the
    `retention` jobs. Telegram customers are served by the desk's bot: their `build` installs
    them on `bot_updates`, the bot's intake.
    """
    from app.platforms import registry
    from bridge.platforms import PlatformContext

    context = PlatformContext(
        config=config,
        sink=sink,
        file_link=file_link,
        leader=runtime.leader,
        transaction=runtime.transaction,
        sessions=runtime.session,
        dead_letters=runtime.dead_letters,
        bot_updates=bot_updates,
    )
    components: list[Component] = []
    for platform in registry() if platforms is None else platforms:
        section = config.section(platform.name)
        if section is None or platform.build is None:
            continue
        parts = platform.build(section, context)
        if parts.sender is not None:
            runtime.senders[platform.name] = parts.sender
        if parts.outlet is not None:
            runtime.outlets.register(platform.name, parts.outlet)
        for channel, profiles in parts.profiles.items():
            sink.names.register(channel, profiles)
        if retention is not None:
            for area in parts.kept_files:
                retention.add_files(area)
        components.extend(parts.components)
    return components
