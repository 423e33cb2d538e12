"""Fake VK API server: API methods checked against VK's schema, long poll, uploads, callbacks."""

from sandbox.vk.fake import FakeVK

__all__ = ["FakeVK"]
