"""Talker Bridge core: conversations, claims, counters, avatars, the desk and the outbox."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("talker-bridge")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+local"
