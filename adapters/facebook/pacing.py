"""How calls to the Messenger Send API are paced: per thread, per Page, and audio/video per Page.

Meta publishes 300 calls a second per Page for text, but "too many messages into one thread
may be throttled", so the defaults are lower: `limits.send_per_second` (default 20) per Page
and 1 a second into one thread. Replies that carry audio, a voice message or a video also
pass `limits.audio_video_per_second` (default 10) per Page, Meta's figure for those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.facebook.sender import SEND_TYPES
from bridge.outbox.policy import Bucket, BucketMaker, BucketsFor, PacedCall

#: Calls a second into one thread (one customer).
THREAD_PER_SECOND = 1.0
#: Attachment kinds the sender sends to Messenger as audio or video.
AUDIO_VIDEO_KINDS = frozenset(
    kind for kind, sent in SEND_TYPES.items() if sent in {"audio", "video"}
)


def buckets(section: Any) -> BucketsFor:
    """The bucket function of the Facebook channel `section` (its `limits`)."""
    per_second = float(section.limits.send_per_second)
    audio_video_per_second = float(section.limits.audio_video_per_second)

    def buckets_for(call: PacedCall, make: BucketMaker) -> Sequence[Bucket]:
        own = make.rate(call.destination, THREAD_PER_SECOND)
        page = make.rate("*", per_second)
        if carries_audio_video(call.payload):
            return (own, page, make.rate("*audio-video", audio_video_per_second))
        return (own, page)

    return buckets_for


def carries_audio_video(payload: Mapping[str, Any]) -> bool:
    """Whether a reply's outbox payload (adapters.common.outbound) has audio or video."""
    attachments = payload.get("attachments")
    if not isinstance(attachments, list):
        return False
    return any(isinstance(a, Mapping) and a.get("kind") in AUDIO_VIDEO_KINDS for a in attachments)
