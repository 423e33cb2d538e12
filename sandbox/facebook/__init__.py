"""Fake Facebook Graph API (Messenger): Send API, user profiles, signed webhook deliveries."""

from sandbox.facebook.fake import FakeFacebook, signature

__all__ = ["FakeFacebook", "signature"]
