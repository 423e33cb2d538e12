"""The Messenger adapter's settings: the `channels.facebook` config section, or by hand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class FacebookSettings:
    """What the Messenger adapter needs (mirrors `config.FacebookChannel`)."""

    page_token: str
    app_secret: str
    verify_token: str
    graph_url: str = "https://graph.facebook.com/v21.0"
    channel: str = "facebook"

    def __post_init__(self) -> None:
        for name in ("page_token", "app_secret", "verify_token"):
            if not getattr(self, name):
                raise ValueError(f"channels.facebook.{name} is required")

    @classmethod
    def from_section(cls, section: Any, **overrides: Any) -> FacebookSettings:
        """From the config's `channels.facebook` section (`config.FacebookChannel`)."""
        values: dict[str, Any] = {
            "page_token": section.page_token,
            "app_secret": section.app_secret,
            "verify_token": section.verify_token,
            "graph_url": str(section.graph_url),
        }
        values.update(overrides)
        return cls(**values)
