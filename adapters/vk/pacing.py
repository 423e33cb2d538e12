"""How calls to VK are paced: `limits.requests_per_second` API calls a second per community token.

VK publishes 20 calls a second for a community token; the config may lower it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bridge.outbox.policy import Bucket, BucketMaker, BucketsFor, PacedCall


def buckets(section: Any) -> BucketsFor:
    """The bucket function of the VK channel `section` (its `limits.requests_per_second`)."""
    per_second = float(section.limits.requests_per_second)

    def buckets_for(call: PacedCall, make: BucketMaker) -> Sequence[Bucket]:
        return (make.rate("*", per_second),)

    return buckets_for
