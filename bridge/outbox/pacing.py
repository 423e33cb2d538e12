"""Pacing arithmetic over shared bucket state: GCRA, and a sliding window for groups.

GCRA: a bucket's state is `next_at` (the "theoretical arrival time") plus `penalty_until`.
A call may go at `t` when `t >= next_at - (burst - 1) * interval`; reserving it moves
`next_at` to `max(next_at, t) + interval`.

Window (a Telegram group: "at most N calls in any W seconds"): the state also keeps `log`,
the last N reserved slots in order. The next call may go at `max(log[-1], log[-N] + W)`, and
besides that passes the GCRA rule above with the bucket's `pace` (a group is also a chat:
about one call a second, short bursts tolerated). Once `spread_after` = b calls lie in the
window, the remaining N - c (c in the window now) are spread evenly until the oldest of them
leaves: the next goes no sooner than `last + (oldest + W - last) / (N - c + 1)`. A quiet group
therefore posts a short burst at once, a storm keeps posting every few seconds instead of
spending the minute's budget at once and then waiting for the window, and a busy group still
never has more than N calls in any W.

Because a reservation may lie in the future, a worker reserves its slot, sleeps until then
and calls: no polling, and two processes that reserve through the same row (locked in the
database) share one budget exactly. After a 429 nothing goes before `retry_after`, then for
the penalty window a GCRA bucket runs `penalty_factor` times slower and a window bucket
allows only N / `penalty_factor` calls in any W (and paces its GCRA part that much slower).

Pure functions on `BucketState`; storage/outbox.py loads and saves the rows around them
(`dump_log` / `load_log` turn the window log into the row's text column and back).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bridge.outbox.policy import Bucket


@dataclass(slots=True)
class BucketState:
    """The stored state of one bucket (epoch seconds); `log` is used by window buckets."""

    next_at: float = 0.0
    penalty_until: float = 0.0
    log: list[float] = field(default_factory=list)


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
        slot = max(slot, _earliest(bucket, states[bucket.key], now, penalty_factor))
    for bucket in buckets:
        state = states[bucket.key]
        spacing = _spacing(bucket, state, slot, penalty_factor)
        state.next_at = max(state.next_at, slot) + spacing
        if bucket.window:
            state.log.append(slot)
            del state.log[: -bucket.window]
    return slot


def penalize(
    state: BucketState,
    bucket: Bucket,
    now: float,
    retry_after: float,
    window: float,
    *,
    penalty_factor: float = 2.0,
) -> None:
    """Record a 429: nothing goes before `now + retry_after`, then a slower pace for `window`."""
    allowed_at = now + max(0.0, retry_after)
    # While penalised the earliest call is next_at - (burst-1)*spacing*factor: not before
    # allowed_at.
    held = (bucket.burst - 1) * bucket.spacing * penalty_factor
    state.next_at = max(state.next_at, allowed_at + held)
    state.penalty_until = max(state.penalty_until, allowed_at + window)


def dump_log(log: Sequence[float]) -> str | None:
    """The window log as stored in the pacing row (None when empty)."""
    if not log:
        return None
    return json.dumps([round(slot, 6) for slot in log], separators=(",", ":"))


def load_log(text: str | None) -> list[float]:
    """The window log from its stored text; a clear ValueError when it is not a list of numbers."""
    if not text:
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"pacing window_log is not JSON: {text[:80]!r}") from exc
    if not isinstance(value, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) for x in value
    ):
        raise ValueError(f"pacing window_log must be a JSON list of numbers, got {text[:80]!r}")
    return sorted(float(x) for x in value)


def _earliest(bucket: Bucket, state: BucketState, at: float, penalty_factor: float) -> float:
    spacing = _spacing(bucket, state, at, penalty_factor)
    earliest = state.next_at - (bucket.burst - 1) * spacing
    if bucket.window:
        log = state.log
        if log:
            earliest = max(earliest, log[-1])
        allowed = bucket.window
        if at < state.penalty_until:
            allowed = max(1, math.floor(bucket.window / penalty_factor))
        if len(log) >= allowed:
            earliest = max(earliest, log[-allowed] + bucket.period)
        if bucket.spread_after:
            earliest = max(earliest, _spread(bucket, log, at, allowed))
    return earliest


def _spread(bucket: Bucket, log: Sequence[float], at: float, allowed: int) -> float:
    """Past `spread_after` calls in the window, the remaining budget goes evenly before the
    oldest call in the window leaves it (the window rule itself covers a full window)."""
    recent = [slot for slot in log if slot > at - bucket.period]
    count = len(recent)
    if count < min(bucket.spread_after, allowed) or count >= allowed:
        return at
    oldest, last = recent[0], recent[-1]
    return last + (oldest + bucket.period - last) / (allowed - count + 1)


def _spacing(bucket: Bucket, state: BucketState, at: float, penalty_factor: float) -> float:
    if at < state.penalty_until:
        return bucket.spacing * penalty_factor
    return bucket.spacing
