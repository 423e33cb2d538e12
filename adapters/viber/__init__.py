"""Viber adapter: signed webhooks parsed with viberbot's models, the REST API over aiohttp."""

from adapters.viber.platform import PLATFORM

__all__ = ["PLATFORM"]
