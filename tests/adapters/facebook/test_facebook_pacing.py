"""Messenger's pacing: 1/s per thread, `send_per_second` per Page (default 20, as documented),
and `audio_video_per_second` per Page for replies that carry audio or video."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.common.outbound import outbound_payload
from adapters.facebook import look, pacing
from adapters.facebook.settings import FacebookSettings
from bridge.events import Attachment, AttachmentKind, Outbound
from bridge.outbox.policy import PacingPolicy, PlatformPacing

SECTION: dict[str, Any] = {
    "group": "support",
    "page_token": "page-token",
    "app_secret": "app-secret",
    "verify_token": "verify",
}


def _policy(limits: dict[str, Any] | None = None) -> PacingPolicy:
    section = FacebookSettings.model_validate({**SECTION, "limits": limits or {}})
    entry = PlatformPacing(pacing.buckets(section), look.MAX_TEXT)
    return PacingPolicy(platforms={"facebook": entry})


def _reply(*kinds: AttachmentKind) -> dict[str, Any]:
    attachments = tuple(Attachment(kind=k, url=f"https://x.test/{k}") for k in kinds)
    return outbound_payload(
        Outbound(channel="facebook", chat="psid-1", text="hi", attachments=attachments)
    )


def test_defaults_are_twenty_a_second_per_page_and_one_per_thread() -> None:
    thread, page = _policy().buckets_for("facebook", "psid-1", _reply())
    assert (thread.key, thread.interval) == ("facebook|psid-1", pytest.approx(1.05))
    assert (page.key, page.interval) == ("facebook|*", pytest.approx(1.05 / 20))
    assert _policy().text_limit("facebook") == 2000


def test_send_per_second_reaches_the_buckets() -> None:
    _, page = _policy({"send_per_second": 5}).buckets_for("facebook", "psid-1")
    assert page.interval == pytest.approx(1.05 / 5)


@pytest.mark.parametrize("kind", ["audio", "voice", "video"])
def test_audio_video_per_second_reaches_the_buckets_of_audio_and_video(
    kind: AttachmentKind,
) -> None:
    policy = _policy({"audio_video_per_second": 4})
    _, _, media = policy.buckets_for("facebook", "psid-1", _reply("photo", kind))
    assert (media.key, media.interval) == ("facebook|*audio-video", pytest.approx(1.05 / 4))
    assert len(policy.buckets_for("facebook", "psid-1", _reply("photo", "document"))) == 2
