"""The VK adapter's settings: the `channels.vk` config section, or the same values by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class VkSettings:
    """What the VK adapter needs (mirrors `config.VkChannel`)."""

    token: str
    group_id: int
    api_url: str = "https://api.vk.ru"
    updates: Literal["longpoll", "callback"] = "longpoll"
    secret: str | None = None
    confirmation: str | None = None
    requests_per_second: float = 20
    channel: str = "vk"
    longpoll_wait: int = 25
    timeout: float = 30

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("channels.vk.token is required")
        if self.group_id <= 0:
            raise ValueError("channels.vk.group_id must be the community's positive id")
        if self.updates not in ("longpoll", "callback"):
            raise ValueError("channels.vk.updates is longpoll or callback")
        if self.updates == "callback" and not (self.secret and self.confirmation):
            raise ValueError("the Callback API needs channels.vk.secret and .confirmation")

    @classmethod
    def from_section(cls, section: Any, **overrides: Any) -> VkSettings:
        """From the config's `channels.vk` section (`config.VkChannel`)."""
        limits = getattr(section, "limits", None)
        values: dict[str, Any] = {
            "token": section.token,
            "group_id": section.group_id,
            "api_url": str(section.api_url),
            "updates": section.updates,
            "secret": section.secret,
            "confirmation": section.confirmation,
            "requests_per_second": getattr(limits, "requests_per_second", 20),
        }
        values.update(overrides)
        return cls(**values)
