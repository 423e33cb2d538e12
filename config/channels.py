"""Config sections of the customer channels: one model per platform, plus the site widgets.

A channel that is absent from the file is off. Every channel (and every site widget) names
the operators' group that handles it; `config.rules` checks that the group exists.
Pacing defaults follow the published limits in specs/LIMITS.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import Field, field_validator

from config.fields import HttpUrl, Name, NonEmptyStr, Origin, Section, fail


class TelegramChannel(Section):
    """Customers who write to the bot in private chats; uses the bot of `telegram:`."""

    group: Name


class VkLimits(Section):
    """VK: up to 20 API calls a second with a community token."""

    requests_per_second: float = Field(20, gt=0)


class VkChannel(Section):
    """A VK community's messages, through a community token."""

    group: Name
    token: NonEmptyStr
    group_id: int = Field(gt=0)
    api_url: HttpUrl = "https://api.vk.ru"
    updates: Literal["longpoll", "callback"] = "longpoll"
    secret: NonEmptyStr | None = None
    confirmation: NonEmptyStr | None = None
    limits: VkLimits = VkLimits()


class ViberLimits(Section):
    """Viber: at most 100 messages an hour to a user who has not replied."""

    per_user_per_hour: int = Field(100, gt=0)


#: Viber's limit on the text of the welcome message answered to `conversation_started`.
MAX_VIBER_GREETING = 7000


class ViberChannel(Section):
    """A Viber bot (Viber calls our webhook, so `http.public_url` is needed)."""

    group: Name
    token: NonEmptyStr
    name: NonEmptyStr
    avatar: HttpUrl | None = None
    greeting: NonEmptyStr | None = None
    api_url: HttpUrl = "https://chatapi.viber.com/pa"
    limits: ViberLimits = ViberLimits()

    @field_validator("name")
    @classmethod
    def _short_sender_name(cls, value: str) -> str:
        if len(value) > 28:
            raise fail(f"Viber allows at most 28 characters in the sender name, got {len(value)}")
        return value

    @field_validator("greeting")
    @classmethod
    def _short_greeting(cls, value: str | None) -> str | None:
        if value is not None and len(value) > MAX_VIBER_GREETING:
            raise fail(
                f"Viber allows at most {MAX_VIBER_GREETING} characters in a welcome message, "
                f"got {len(value)}"
            )
        return value


class FacebookLimits(Section):
    """Facebook Send API, per Page: 20 calls a second (Facebook publishes 300, but throttles
    many messages into one thread; adapters/facebook/pacing.py), 10 for audio and video."""

    send_per_second: float = Field(20, gt=0)
    audio_video_per_second: float = Field(10, gt=0)


class FacebookChannel(Section):
    """A Facebook Page's Messenger inbox (webhooks, so `http.public_url` is needed)."""

    group: Name
    page_token: NonEmptyStr
    app_secret: NonEmptyStr
    verify_token: NonEmptyStr
    graph_url: HttpUrl = "https://graph.facebook.com/v21.0"
    limits: FacebookLimits = FacebookLimits()


class Widget(Section):
    """One chat widget embedded in the pages of `origins`."""

    group: Name
    title: NonEmptyStr
    origins: Annotated[tuple[Origin, ...], Field(min_length=1)]


class SiteChannel(Section):
    """The chat widgets on the company's sites, keyed by widget id (used in URLs)."""

    widgets: Annotated[Mapping[Name, Widget], Field(min_length=1)]

    @field_validator("widgets", mode="after")
    @classmethod
    def _read_only(cls, value: Mapping[str, Widget]) -> Mapping[str, Widget]:
        return MappingProxyType(dict(value))


class Channels(Section):
    """The customer channels that are on; `None` means off."""

    telegram: TelegramChannel | None = None
    vk: VkChannel | None = None
    viber: ViberChannel | None = None
    facebook: FacebookChannel | None = None
    site: SiteChannel | None = None


ChannelSection = TelegramChannel | VkChannel | ViberChannel | FacebookChannel | Widget
"""Any section that names the group handling it (a channel, or one site widget)."""
