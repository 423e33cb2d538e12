"""A customer platform as one descriptor: what the rest of the service may know of it.

Each `adapters/<platform>/` exports one `Platform` (its `PLATFORM`), and the composition root
lists them in one `Registry` (`app/platforms.py`). Nothing outside a platform's folder branches
on its name: the config validates its section through `schema` (a `config.PlatformSchema`:
the section model, the channels and groups it names, its cross-key checks), the wiring calls
`build` for an enabled section and registers what it returns, the outbox paces its calls with
`buckets` and merges texts up to `max_text`, cards and avatars show `display_names` and `badge`
(the root collects them: app/pacing.py, app/looks.py).

Contract of the callables: `build` may do no I/O (components do theirs in `start`) and may raise
only for a section it cannot serve; `buckets` is pure and cheap.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.adapter import LooksUpProfiles
    from bridge.avatars.badges import Badge
    from bridge.components import Component
    from bridge.core.desk import CustomerOutlet
    from bridge.core.sink import BridgeSink
    from bridge.cursors import Transaction
    from bridge.dead_letters import DeadLetters
    from bridge.leader import Leader
    from bridge.outbox import Sender
    from bridge.outbox.policy import BucketsFor
    from bridge.retention import FileArea
    from config import BridgeConfig, PlatformSchema


@dataclass(frozen=True, slots=True)
class PlatformContext:
    """What the composition root offers a platform's `build`.

    `sink` is the core's `CoreSink` every adapter reports to; `file_link` turns an operator's
    Telegram file_id into a URL of the bridge (None: no address to offer); `leader` runs duties
    only in the leading process (`bridge.leader.Leader`); `transaction` opens a database
    transaction (for `bridge.cursors.StoredCursor`) and `sessions` makes sessions, both on the
    process's one engine; `dead_letters` keeps webhook bodies that fail deterministically and
    replays them (bridge/dead_letters.py); `bot_updates` is the updates intake of the desk's bot
    (`botapi.updates.UpdatesIntake`, the desk's handlers installed first), for customers who
    write to that bot; `config` is the whole validated config.
    """

    config: BridgeConfig
    sink: BridgeSink
    file_link: Callable[[str], str | None] | None = None
    leader: Leader | None = None
    transaction: Transaction | None = None
    sessions: Callable[[], AsyncSession] | None = None
    dead_letters: DeadLetters | None = None
    #: A `botapi.updates.UpdatesIntake`, which the core may not name (botapi sits above it).
    bot_updates: Any = None


@dataclass
class WebhookReport:
    """What `set-webhooks` registered, line by line; `ok` is False when any platform refused."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def good(self, line: str) -> None:
        self.lines.append(f"OK    {line}")

    def bad(self, line: str) -> None:
        self.lines.append(f"FAIL  {line}")
        self.ok = False

    def note(self, line: str) -> None:
        self.lines.append(f"      {line}")


#: (section, the bridge's public base URL, report) -> registers the platform's webhook with
#: it (or tells the admin what to do by hand); never raises for a platform's refusal.
RegisterWebhook = Callable[[Any, str, WebhookReport], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PlatformParts:
    """What `Platform.build` returns: the platform's running parts for one config section.

    `components` are started and stopped by the service (adapters, pollers, routes);
    `sender` delivers the platform's outbox rows (bridge.outbox's `Sender`); `outlet` turns an
    operator's reply into outbox rows (bridge.core.desk's `CustomerOutlet`); `profiles` maps a
    channel to what looks its customers up by id (bridge.adapter's `LooksUpProfiles`). A
    sender or outlet left None is registered by someone else (Telegram's are the desk's bot's).
    `kept_files` are the files the platform stores, which the retention jobs delete when old
    (bridge.retention's `FileArea`).
    """

    components: Sequence[Component] = ()
    sender: Sender | None = None
    outlet: CustomerOutlet | None = None
    profiles: Mapping[str, LooksUpProfiles] = field(default_factory=dict)
    kept_files: Sequence[FileArea] = ()


@dataclass(frozen=True, slots=True)
class Platform:
    """One customer platform.

    Its name (`schema.name`) is the key of its section under `channels:`, the outbox
    `platform` of its rows and the prefix of its channel names (`site:<widget>`: a platform
    may serve several channels).
    """

    #: The config's part: section model (which the adapter reads as is), channels, checks.
    schema: PlatformSchema
    #: Build the platform's parts from its section (None: nothing to build).
    build: Callable[[Any, PlatformContext], PlatformParts] | None = None
    #: Language code -> the platform's name as operators and customers read it.
    display_names: Mapping[str, str] = field(default_factory=dict)
    #: How avatars mark the platform (None: `bridge.avatars.badges.unknown_badge`).
    badge: Badge | None = None
    #: Other names `talker-bridge avatar --channel` accepts for the platform.
    aliases: Sequence[str] = ()
    #: The longest text one message may carry on this platform (None: the policy's default).
    max_text: int | None = None
    #: The pacing buckets of one call, from the section (None: unlimited, e.g. our own widget).
    buckets: Callable[[Any], BucketsFor] | None = None
    #: What `set-webhooks` does for an enabled section (None: nothing to register).
    register_webhook: RegisterWebhook | None = None

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def section(self) -> type:
        """The pydantic model of `channels.<name>` (a `config.fields.Section`)."""
        return self.schema.section

    def display_name(self, language: str) -> str:
        return self.display_names.get(language) or self.display_names.get("en") or self.name


class Registry:
    """The platforms the service knows, in a fixed order (config messages, summaries, start)."""

    def __init__(self, platforms: Sequence[Platform]) -> None:
        names = [platform.name for platform in platforms]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"platforms registered twice: {', '.join(duplicates)}")
        self._platforms = tuple(platforms)

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._platforms)

    def __len__(self) -> int:
        return len(self._platforms)

    def __getitem__(self, name: str) -> Platform:
        for platform in self._platforms:
            if platform.name == name:
                return platform
        raise KeyError(name)

    def names(self) -> list[str]:
        return [platform.name for platform in self._platforms]

    def schemas(self) -> dict[str, PlatformSchema]:
        """What `config.parse_config` needs: each platform's schema by its name."""
        return {platform.name: platform.schema for platform in self._platforms}

    def with_platform(self, platform: Platform) -> Registry:
        """This registry plus `platform` (a test's toy platform, say)."""
        return Registry([*self._platforms, platform])

    def for_channel(self, channel: str) -> Platform:
        """The platform of a channel name (`vk`, `site:shop` -> site)."""
        return self[channel.partition(":")[0]]
