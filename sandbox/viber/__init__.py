"""Fake Viber REST bot API: `/pa/<endpoint>` with Viber's statuses, limits and signed callbacks."""

from sandbox.viber.fake import FakeViber, sign

__all__ = ["FakeViber", "sign"]
