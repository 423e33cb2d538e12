"""Facebook Messenger adapter: signed Page webhooks in, the Send API out (aiohttp)."""

from adapters.facebook.platform import PLATFORM

__all__ = ["PLATFORM"]
