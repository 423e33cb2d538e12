"""The Viber adapter's settings: the `channels.viber` config section, or the same by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from config.channels import MAX_VIBER_GREETING as MAX_GREETING

MAX_SENDER_NAME = 28


@dataclass(frozen=True, slots=True)
class ViberSettings:
    """What the Viber adapter needs (mirrors `config.ViberChannel`)."""

    token: str
    name: str
    api_url: str = "https://chatapi.viber.com/pa"
    avatar: str | None = None
    greeting: str | None = None
    channel: str = "viber"
    timeout: float = 30

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("channels.viber.token is required")
        if not self.name or len(self.name) > MAX_SENDER_NAME:
            raise ValueError(f"channels.viber.name is 1..{MAX_SENDER_NAME} characters")
        if self.greeting is not None and not 0 < len(self.greeting) <= MAX_GREETING:
            raise ValueError(f"channels.viber.greeting is 1..{MAX_GREETING} characters")

    @classmethod
    def from_section(cls, section: Any, **overrides: Any) -> ViberSettings:
        """From the config's `channels.viber` section (`config.ViberChannel`)."""
        avatar = getattr(section, "avatar", None)
        values: dict[str, Any] = {
            "token": section.token,
            "name": section.name,
            "api_url": str(section.api_url),
            "avatar": str(avatar) if avatar else None,
            "greeting": section.greeting,
        }
        values.update(overrides)
        return cls(**values)
