"""VK adapter: vk_api pointed at a configurable API URL."""

from adapters.vk.platform import PLATFORM

__all__ = ["PLATFORM"]
