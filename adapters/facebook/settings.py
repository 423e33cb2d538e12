"""`channels.facebook`: the Page's config section, which the Messenger adapter reads as is."""

from __future__ import annotations

from pydantic import Field

from config.fields import HttpUrl, Name, NonEmptyStr, Section


class FacebookLimits(Section):
    """Facebook Send API, per Page: 20 calls a second (Facebook publishes 300, but throttles
    many messages into one thread; adapters/facebook/pacing.py), 10 for audio and video."""

    send_per_second: float = Field(20, gt=0)
    audio_video_per_second: float = Field(10, gt=0)


class FacebookSettings(Section):
    """A Facebook Page's Messenger inbox (webhooks, so `http.public_url` is needed)."""

    group: Name
    page_token: NonEmptyStr
    app_secret: NonEmptyStr
    verify_token: NonEmptyStr
    graph_url: HttpUrl = "https://graph.facebook.com/v21.0"
    limits: FacebookLimits = FacebookLimits()
