"""Pacing arithmetic: the generic cell rate algorithm (GCRA) over shared bucket state.

A bucket's whole state is `next_at` (the "theoretical arrival time") plus `penalty_until`.
A call may go at `t` when `t >= next_at - (burst - 1) * interval`; reserving it moves
`next_at` to `max(next_at, t) + interval`. Because a reservation may lie in the future, a
worker reserves its slot, sleeps until then and calls: no polling, and two processes that
reserve through the same row (locked in the database) share one budget exactly.

Pure functions on `BucketState`; storage/outbox.py loads and saves the rows around them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bridge.outbox.policy import Bucket


@dataclass(slots=True)
class BucketState:
    """The stored state of one bucket (epoch seconds)."""

    next_at: float = 0.0
    penalty_until: float = 0.0


def reserve(
    states: Mapping[str, BucketState],
    buckets: Sequence[Bucket],
    now: float,
    *,
    penalty_factor: float = 2.0,
) -> float:
    """Reserve the earliest slot at which every bucket allows one call; update the states.

    Returns the slot (>= now). `states` must hold an entry for every bucket key.
    """
    slot = now
    for bucket in buckets:
        state = states[bucket.key]
        interval = _interval(bucket, state, now, penalty_factor)
        slot = max(slot, state.next_at - (bucket.burst - 1) * interval)
    for bucket in buckets:
        state = states[bucket.key]
        interval = _interval(bucket, state, slot, penalty_factor)
        state.next_at = max(state.next_at, slot) + interval
    return slot


def penalize(
    state: BucketState, bucket: Bucket, now: float, retry_after: float, window: float
) -> None:
    """Record a 429: nothing goes before `now + retry_after`, then a slower pace for `window`."""
    allowed_at = now + max(0.0, retry_after)
    # next_at - (burst-1)*interval must not be earlier than allowed_at.
    state.next_at = max(state.next_at, allowed_at + (bucket.burst - 1) * bucket.interval)
    state.penalty_until = max(state.penalty_until, allowed_at + window)


def _interval(bucket: Bucket, state: BucketState, at: float, penalty_factor: float) -> float:
    if at < state.penalty_until:
        return bucket.interval * penalty_factor
    return bucket.interval
