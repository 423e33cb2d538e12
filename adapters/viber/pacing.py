"""How calls to Viber are paced: per user and per bot.

Viber publishes no per-second cap; 10 calls a second per bot is a conservative figure, and
1 a second to one user. Viber also allows at most `limits.per_user_per_hour` (default 100)
messages an hour to a user who has not replied; the pacing cannot know who replied, so it
keeps every user under that figure (a window of an hour).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.outbox.policy import Bucket, BucketMaker, BucketsFor, PacedCall

#: Calls a second to one user.
USER_PER_SECOND = 1.0
#: Calls a second for the whole bot.
BOT_PER_SECOND = 10.0
HOUR = 3600.0


def buckets(section: Any) -> BucketsFor:
    """The bucket function of the Viber channel `section` (its `limits.per_user_per_hour`)."""
    per_hour = int(section.limits.per_user_per_hour)

    def buckets_for(call: PacedCall, make: BucketMaker) -> Sequence[Bucket]:
        user = call.destination
        return (
            make.rate(user, USER_PER_SECOND),
            make.window(f"{user}|hour", calls=per_hour, seconds=HOUR),
            make.rate("*", BOT_PER_SECOND),
        )

    return buckets_for
