"""`channels.vk`: the VK community's config section, which the VK adapter reads as is."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from config.fields import HttpUrl, Name, NonEmptyStr, Section


class VkLimits(Section):
    """VK: up to 20 API calls a second with a community token."""

    requests_per_second: float = Field(20, gt=0)


class VkSettings(Section):
    """A VK community's messages, through a community token.

    `updates: callback` needs `secret` and `confirmation`; the config checks that with a rule
    (adapters/vk/platform.py) so the admin reads which key is missing, and `VkAdapter` refuses
    a hand-made section without them.
    """

    group: Name
    token: NonEmptyStr
    group_id: int = Field(gt=0)
    api_url: HttpUrl = "https://api.vk.ru"
    updates: Literal["longpoll", "callback"] = "longpoll"
    secret: NonEmptyStr | None = None
    confirmation: NonEmptyStr | None = None
    limits: VkLimits = VkLimits()
