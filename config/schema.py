"""The config schema: `BridgeConfig` and its sections, as immutable pydantic models.

The attribute names mirror the YAML keys one to one (see config/example.yaml, which documents
every key). Build one with `config.load_config` or `config.parse_config`, never directly: those
substitute `${VAR}`, run the cross-section rules and turn errors into readable lines.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator

from config.fields import (
    Duration,
    GroupChatId,
    HttpUrl,
    Name,
    NonEmptyStr,
    ProxyNetwork,
    Section,
    fail,
    format_duration,
)
from config.helpdesk import HoursConfig, SlaConfig, Template, TextsConfig
from config.platforms import PlatformSchema

DEFAULT_DATABASE = "sqlite:///talker-bridge.db"


class InternalListener(Section):
    """A second listener for what only the admin's tools may see: /healthz details, /metrics."""

    host: NonEmptyStr = "127.0.0.1"
    port: int = Field(ge=1, le=65535)


class HttpConfig(Section):
    """The bridge's HTTP server (webhooks, site widget, /healthz, /metrics)."""

    host: NonEmptyStr = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: HttpUrl | None = None
    widget_secret: NonEmptyStr | None = None
    #: Reverse proxies whose X-Forwarded-For is believed (addresses or networks).
    trusted_proxies: tuple[ProxyNetwork, ...] = ()
    #: Where /metrics and /healthz's details are served; None: on the main listener, behind
    #: `metrics_token` when that is set.
    internal: InternalListener | None = None
    #: A bearer token that opens /metrics and /healthz's details on the main listener.
    metrics_token: NonEmptyStr | None = None

    @field_validator("metrics_token")
    @classmethod
    def _token_long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise fail(f"must be at least 16 characters long, got {len(value)}")
        return value

    @field_validator("widget_secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 16:
            raise fail(
                f"must be at least 16 characters long to be a signing key, got {len(value)}"
            )
        return value


class TelegramLimits(Section):
    """Telegram's published sending limits (specs/LIMITS.md); lower them, never raise them."""

    per_chat_per_second: float = Field(1, gt=0)
    per_group_per_minute: float = Field(20, gt=0)
    global_per_second: float = Field(30, gt=0)


def _check_bot_token(value: str) -> str:
    bot_id, colon, secret = value.partition(":")
    if any(ch.isspace() for ch in value) or not colon or not bot_id.isdigit() or not secret:
        raise fail(
            "not a Telegram bot token (it looks like 123456789:AA...; get one from @BotFather)"
        )
    return value


class TelegramConfig(Section):
    """The bot that sits in the operators' groups and also serves Telegram customers."""

    token: NonEmptyStr
    api_url: HttpUrl = "https://api.telegram.org"
    updates: Literal["polling", "webhook"] = "polling"
    webhook_secret: NonEmptyStr | None = None
    limits: TelegramLimits = TelegramLimits()

    @field_validator("token")
    @classmethod
    def _bot_token(cls, value: str) -> str:
        return _check_bot_token(value)

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret_alphabet(cls, value: str | None) -> str | None:
        allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        if value is not None and (len(value) > 256 or not set(value) <= allowed):
            raise fail("Telegram accepts 1-256 characters of A-Z, a-z, 0-9, '_' and '-'")
        return value


class GroupConfig(Section):
    """One operators' Telegram group. `name` is its key under `groups:`."""

    chat_id: GroupChatId
    #: topics: one forum topic per customer in the group; replies: a plain group, answered with
    #: Reply; private: the group keeps the feed, an accepted conversation continues in a topic
    #: of the claimer's private chat with the bot (Bot API 9.3 topics in private chats).
    mode: Literal["topics", "replies", "private"] = "topics"
    operators: tuple[Annotated[int, Field(gt=0)], ...] = ()
    #: Telegram user ids who may force-release and /block any of the group's conversations
    #: (besides the group's own Telegram administrators).
    admins: tuple[Annotated[int, Field(gt=0)], ...] = ()
    notify_private: bool = False
    incoming_topic: Annotated[int, Field(gt=0)] | None = None
    dashboard: bool = True
    dashboard_budget_share: float = Field(0.1, gt=0, le=0.5)
    #: Working hours; None: always open (config/helpdesk.py, bridge/hours.py).
    hours: HoursConfig | None = None
    #: Reminders when a card waits for Accept or a customer for an answer.
    sla: SlaConfig = SlaConfig()
    #: Close a claimed conversation after this long with no message either way; None: never.
    auto_close_after: Duration | None = None

    _name: str = PrivateAttr(default="")

    @property
    def name(self) -> str:
        """The group's key under `groups:` in the config file."""
        return self._name

    def describe(self) -> str:
        """The mode and the helpdesk settings, as `check-config` prints them."""
        parts: list[str] = [self.mode]
        if self.mode == "private":
            parts.append(
                "needs Threaded mode on in @BotFather, and each operator to /start the bot"
            )
        if self.hours is not None:
            parts.append(f"hours {self.hours.timezone}")
        if self.sla.accept_within is not None:
            parts.append(f"accept within {format_duration(self.sla.accept_within)}")
        if self.sla.answer_within is not None:
            parts.append(f"answer within {format_duration(self.sla.answer_within)}")
        if self.auto_close_after is not None:
            parts.append(f"auto-close after {format_duration(self.auto_close_after)}")
        return ", ".join(parts)

    def allows(self, user_id: int) -> bool:
        """True when `user_id` may act as an operator here (empty `operators`: every member)."""
        return not self.operators or user_id in self.operators


class OutboxConfig(Section):
    """Retries of outbound sends."""

    max_backoff_seconds: float = Field(60, gt=0)
    alarm_after_seconds: float = Field(300, gt=0)
    delivery_timeout_seconds: float = Field(120, gt=0)


#: The shortest `retention.processed_events`: platforms redeliver for up to a day.
MIN_PROCESSED_EVENTS = timedelta(days=1)
#: The shortest `retention.unattached_uploads`.
MIN_UNATTACHED_UPLOADS = timedelta(minutes=1)
#: The shortest `retention.closed_conversations`: a customer often writes again the next day.
MIN_CLOSED_CONVERSATIONS = timedelta(days=1)
#: How `retention.closed_conversations` is written to keep everything (the default).
KEEP = "keep"


class RetentionConfig(Section):
    """How long finished work is kept before the retention jobs delete it (bridge/retention.py)."""

    #: Outbox rows that are finished (sent, failed for good, superseded), after they finished.
    outbox: Duration = timedelta(days=7)
    #: Platform event ids already handled (the duplicate check of webhooks and polling).
    processed_events: Duration = timedelta(days=14)
    #: Files a visitor uploaded in the widget and never sent in a message.
    unattached_uploads: Duration = timedelta(minutes=30)
    #: Every stored file (widget uploads, operators' files kept for visitors), by its age.
    files: Duration = timedelta(days=90)
    #: Closed conversations' messages and files, counted from when the conversation closed;
    #: None (`keep`, the default): kept for good.
    closed_conversations: Duration | None = None

    @field_validator("closed_conversations", mode="before")
    @classmethod
    def _keep_or_a_period_with_its_unit(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == KEEP):
            return None
        bare: object
        if isinstance(value, int | float) and not isinstance(value, bool):
            bare = value
        elif isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
            bare = value.strip()
        else:
            return value
        raise fail(
            f"write the period with its unit, e.g. 365d or 90d, or {KEEP!r} (got {bare}: a "
            "bare number would be seconds, and this setting deletes customers' messages)"
        )

    @field_validator("closed_conversations")
    @classmethod
    def _not_before_the_customer_is_back(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < MIN_CLOSED_CONVERSATIONS:
            raise fail(
                f"must be at least {format_duration(MIN_CLOSED_CONVERSATIONS)}, got "
                f"{format_duration(value)}: operators read a closed conversation's history "
                "when the customer writes again"
            )
        return value

    @field_validator("processed_events")
    @classmethod
    def _redeliveries_stay_deduplicated(cls, value: timedelta) -> timedelta:
        if value < MIN_PROCESSED_EVENTS:
            raise fail(
                f"must be at least {format_duration(MIN_PROCESSED_EVENTS)}, got "
                f"{format_duration(value)}: platforms deliver an event again for up to a day, "
                "and an id deleted before that would be handled twice"
            )
        return value

    @field_validator("unattached_uploads")
    @classmethod
    def _time_to_send(cls, value: timedelta) -> timedelta:
        if value < MIN_UNATTACHED_UPLOADS:
            raise fail(
                f"must be at least {format_duration(MIN_UNATTACHED_UPLOADS)}, got "
                f"{format_duration(value)}: a visitor needs time to send what they attached"
            )
        return value

    @field_validator("files")
    @classmethod
    def _longer_than_unattached(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        unattached = info.data.get("unattached_uploads")
        if unattached is not None and value <= unattached:
            raise fail(
                f"must be longer than unattached_uploads ({format_duration(unattached)}), "
                f"got {format_duration(value)}"
            )
        return value


class CloseConfig(Section):
    """What the customer receives when an operator closes a conversation."""

    goodbye: bool = True
    #: After /close or an auto-close, ask the customer to rate the help 1-5.
    rating: bool = False


class Channels(Section):
    """`channels:`, the customer channels that are on; a missing or `None` section is off.

    This base knows no platform: `config.loader` derives the model with one optional field per
    registered platform (its section model), so `config.channels.<name>` is that section.
    Code outside a platform's folder asks `BridgeConfig.section(name)` instead.
    """

    if TYPE_CHECKING:
        # The fields are the registered platforms', unknown to a type checker.
        def __getattr__(self, name: str) -> Any: ...


class BridgeConfig(Section):
    """The whole validated config. Immutable; `source` is the file it came from."""

    language: Literal["ru", "en"] = "ru"
    database: NonEmptyStr = DEFAULT_DATABASE
    http: HttpConfig = HttpConfig()
    telegram: TelegramConfig
    groups: Annotated[Mapping[Name, GroupConfig], Field(min_length=1)]
    channels: Channels
    outbox: OutboxConfig = OutboxConfig()
    close: CloseConfig = CloseConfig()
    retention: RetentionConfig = RetentionConfig()
    #: Quick replies for `/t NAME`: a text for all, or per customer language.
    templates: Mapping[Name, Template] = Field(default_factory=dict)
    #: Overrides of customer-facing texts, per language.
    texts: TextsConfig = TextsConfig()

    _source: str = PrivateAttr(default="<config>")
    _platforms: tuple[PlatformSchema, ...] = PrivateAttr(default=())
    _channel_groups: dict[str, str] = PrivateAttr(default_factory=dict)

    def _bind_platforms(self, platforms: Mapping[str, PlatformSchema]) -> None:
        """Remember the platforms' schemas and which channel each enabled section turns on."""
        self._platforms = tuple(platforms.values())
        self._channel_groups = {
            channel: group
            for schema in self._platforms
            if (section := self.section(schema.name)) is not None
            for channel, group in schema.channels_of(section)
        }

    @field_validator("database")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except ArgumentError:
            # The value is not echoed: it may hold a password.
            raise fail(
                "not a database URL (write e.g. sqlite:///talker-bridge.db or "
                "postgresql://user:password@host/dbname)"
            ) from None
        return value

    @field_validator("groups", mode="after")
    @classmethod
    def _named_read_only(cls, value: Mapping[str, GroupConfig]) -> Mapping[str, GroupConfig]:
        for name, group in value.items():
            group._name = name
        return MappingProxyType(dict(value))

    @property
    def source(self) -> str:
        """The config file's path (or the name given to `parse_config`), for messages."""
        return self._source

    @property
    def database_backend(self) -> str:
        """`sqlite`, `postgresql`, ...: the SQLAlchemy backend name of `database`."""
        from sqlalchemy.engine import make_url

        return make_url(self.database).get_backend_name()

    def section(self, platform: str) -> Section | None:
        """The section of `channels.<platform>` (the platform's own model), None when off."""
        return getattr(self.channels, platform, None)

    def enabled_platforms(self) -> list[str]:
        """The platforms whose section is on, in the registry's order."""
        return [s.name for s in self._platforms if self.section(s.name) is not None]

    def enabled_channels(self) -> list[str]:
        """Channels that are on, in the registry's order (a platform may turn several on,
        like the site's `site:<widget id>`)."""
        return list(self._channel_groups)

    def group_name_for_channel(self, channel: str) -> str:
        """The name of the group that handles `channel` (`telegram`, `vk`, `site:<id>`, ...)."""
        try:
            return self._channel_groups[channel]
        except KeyError:
            raise KeyError(f"channel {channel!r} is not on in {self.source}") from None

    def group_for_channel(self, channel: str) -> GroupConfig:
        """The operators' group that handles `channel` (`telegram`, `vk`, `site:<id>`, ...)."""
        return self.groups[self.group_name_for_channel(channel)]

    def group_for_chat(self, chat_id: int) -> GroupConfig | None:
        """The operators' group whose Telegram chat is `chat_id`, or None."""
        for group in self.groups.values():
            if group.chat_id == chat_id:
                return group
        return None

    def widget_signing_key(self) -> bytes:
        """The key that signs site visitor tokens.

        `http.widget_secret` when set; otherwise derived from the bot token, so every process
        sharing this config agrees on it and it survives restarts (changing the bot token then
        signs visitors out of the widget, who simply start a new conversation).
        """
        if self.http.widget_secret is not None:
            return self.http.widget_secret.encode()
        return hmac.new(
            self.telegram.token.encode(), b"talker-bridge widget tokens", hashlib.sha256
        ).digest()

    def summary(self) -> str:
        """One line of what is on, as `check-config` prints it."""
        groups = ", ".join(f"{name}: {group.describe()}" for name, group in self.groups.items())
        count = len(self.groups)
        parts = [
            schema.summary_of(section)
            for schema in self._platforms
            if (section := self.section(schema.name)) is not None
        ]
        extras = []
        if self.close.rating:
            extras.append("ratings on")
        if self.templates:
            extras.append(
                f"{len(self.templates)} quick repl{'ies' if len(self.templates) != 1 else 'y'}"
            )
        return (
            f"language {self.language}, database {self.database_backend}, "
            f"{count} group{'s' if count != 1 else ''} ({groups}), "
            f"channels: {', '.join(parts)}" + "".join(f", {extra}" for extra in extras)
        )
