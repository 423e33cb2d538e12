"""Pacing arithmetic over shared bucket state: GCRA, and a sliding window for groups.

GCRA: a bucket's state is `next_at` (the "theoretical arrival time") plus `penalty_until`.
A call may go at `t` when `t >= next_at - (burst - 1) * interval`; reserving it moves
`next_at` to `max(next_at, t) + interval`.

Window (a Telegram group: "at most N calls in any W seconds"): the state also keeps `log`,
the last N reserved slots in order. The next call may go at `max(log[-1], log[-N] + W)`, and
besides that passes the GCRA rule above with the bucket's `pace` (a group is also a chat:
about one call a second, short bursts tolerated). Once `spread_after` = b calls lie in the
window, the remaining N - c (c in the window now) are spread evenly until the oldest of them
leaves: the next goes no sooner than `last + (oldest + W - last) / (N - c + 1)`, and never
sooner than `last + W / N` (an even share), full window or not. A quiet group therefore posts a
short burst at once, a storm keeps posting every few seconds instead of spending the minute's
budget at once and then waiting for the window, a saturated group posts evenly (so its window
frees one slot at a time, never a bunch that the next calls would take at once and repeat
every period), and a busy group still never has more than N calls in any W.

Because a reservation may lie in the future, a worker reserves its slot, sleeps until then
and calls: no polling, and two processes that reserve through the same row (locked in the
database) share one budget exactly. After a 429 nothing goes before `retry_after`, then for
the penalty window a GCRA bucket runs `penalty_factor` times slower and a window bucket
allows only N / `penalty_factor` calls in any W (and paces its GCRA part that much slower).

Interactive calls (what an operator waits for right after pressing Accept: the topic, its
history) are paced apart from the ordinary traffic of a window bucket. Ordinary calls leave
the bucket's `reserve` calls of its window free (they hold at most N − `reserve` of it, and
their spread shares out that smaller budget), and an interactive call takes the earliest
moment at which the window and the chat's pace still hold with it added, even before a slot
an ordinary call reserved earlier and is sleeping towards: the window's log is a set of
slots, not a queue. So with the group's budget spent by a storm an operator's Accept still
goes within about a second (or, once the reserve is used, at the next slot the window
frees), while the group never sees more than N calls in any W.

Pure functions on `BucketState`; storage/outbox.py loads and saves the rows around them
(`dump_log` / `load_log` turn the window log into the row's text column and back).
"""

from __future__ import annotations

import bisect
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
    interactive: bool = False,
) -> float:
    """Reserve the earliest slot at which every bucket allows one call; update the states.

    Returns the slot (>= now). `states` must hold an entry for every bucket key.
    `interactive`: this call may use the window's `reserve` (which ordinary calls leave
    free) and go before slots ordinary calls reserved earlier (see the module docstring).
    """
    windows = [bucket for bucket in buckets if bucket.window]
    allowed_at = {
        bucket.key: _earliest(bucket, states[bucket.key], now, penalty_factor)
        for bucket in buckets
        if not (interactive and bucket.window)
    }
    slot = max([now, *allowed_at.values()])
    if interactive:
        for bucket in windows:
            state = states[bucket.key]
            # The window's own pace and a 429's retry_after (penalize moves `next_at`) hold.
            held = state.next_at - (bucket.burst - 1) * _spacing(
                bucket, state, now, penalty_factor
            )
            slot = max(slot, _earliest_inserted(bucket, state, max(slot, held), penalty_factor))
    for bucket in buckets:
        state = states[bucket.key]
        spacing = _spacing(bucket, state, slot, penalty_factor)
        if bucket.window:
            state.next_at = max(state.next_at, slot) + spacing
            _log_slot(state, bucket, slot, now)
        elif windows:
            # A window may hold this call seconds (a Telegram group) or minutes (a Viber
            # user's hour) ahead: the shared buckets beside it (the bot's 30 a second) are
            # charged when they allowed the call, or every other destination of the account
            # would wait behind that slot. Calls charged early that land together are at most
            # the worker's concurrency, well inside the account's own burst.
            charged = max(now, allowed_at[bucket.key])
            state.next_at = max(state.next_at, charged) + spacing
        else:
            state.next_at = max(state.next_at, slot) + spacing
    return slot


def _log_slot(state: BucketState, bucket: Bucket, slot: float, now: float) -> None:
    """Add `slot` to the window's log: the last `window` slots, and every slot that may still
    share a period with a call made from now on (an interactive call can land before slots
    reserved ahead of it, so those behind must stay counted too)."""
    log = state.log
    log.append(slot)
    log.sort()
    keep = min(len(log) - bucket.window, bisect.bisect_right(log, now - bucket.period))
    if keep > 0:
        del log[:keep]


def release(state: BucketState, slot: float) -> None:
    """Take a reserved `slot` that was not used (its call missed it) out of a window's log."""
    for index, logged in enumerate(state.log):
        if abs(logged - slot) < 1e-5:  # the log keeps slots to the microsecond
            del state.log[index]
            return


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


def _allowed(bucket: Bucket, state: BucketState, at: float, penalty_factor: float) -> int:
    """Calls the window allows in any period at `at` (fewer while penalised after a 429)."""
    if at < state.penalty_until:
        return max(1, math.floor(bucket.window / penalty_factor))
    return bucket.window


def _earliest_inserted(
    bucket: Bucket, state: BucketState, at: float, penalty_factor: float
) -> float:
    """An interactive call on a window bucket: the earliest moment >= `at` at which one more
    call keeps every period at or under the window's calls (the slots reserved in the future
    included) and the chat's pace (a token bucket of `burst` calls, one per `pace`).

    The candidates are `at` and the moments a logged slot leaves a period or frees a token;
    when none fits, the call goes after the last slot, like an ordinary one."""
    log = state.log
    candidates = {at}
    spacing = _spacing(bucket, state, at, penalty_factor)
    for slot in log:
        candidates.add(slot + bucket.period + 1e-6)
        if spacing:
            candidates.update(slot + k * spacing for k in range(1, bucket.burst + 1))
    ordered = sorted(c for c in candidates if c >= at)
    for candidate in ordered:
        if _window_fits(bucket, state, candidate, penalty_factor) and _pace_fits(
            bucket, state, candidate, penalty_factor
        ):
            return candidate
    # No moment fits the pace as well (a log that broke it already, after a late call):
    # after the last slot, at the first moment the window allows.
    after = max([at, *log[-1:]]) + spacing
    for candidate in sorted({after, *(c for c in ordered if c > after)}):
        if _window_fits(bucket, state, candidate, penalty_factor):
            return candidate
    return max(after, *(slot + bucket.period for slot in log[-1:]))


def _window_fits(
    bucket: Bucket, state: BucketState, candidate: float, penalty_factor: float
) -> bool:
    """Whether every period that holds `candidate` holds at most the window's calls with it."""
    slots = sorted([*state.log, candidate])
    allowed = _allowed(bucket, state, candidate, penalty_factor)
    period = bucket.period
    # The periods that hold the candidate end at it or at the slots after it within a period.
    for end in slots:
        if end < candidate or end >= candidate + period:
            continue
        if sum(1 for other in slots if end - period < other <= end) > allowed:
            return False
    return True


def _pace_fits(
    bucket: Bucket, state: BucketState, candidate: float, penalty_factor: float
) -> bool:
    """Whether the chat's pace (a token bucket of `burst` calls, one per spacing) holds with
    `candidate` added, from a full bucket just before it onwards."""
    spacing = _spacing(bucket, state, candidate, penalty_factor)
    if not spacing:
        return True
    start = candidate - bucket.burst * spacing
    slots = sorted([*(slot for slot in state.log if slot > start), candidate])
    tokens = float(bucket.burst)
    previous: float | None = None
    for slot in slots:
        if previous is not None:
            tokens = min(float(bucket.burst), tokens + (slot - previous) / spacing)
        if tokens < 1 - 1e-9:
            return False
        tokens -= 1
        previous = slot
    return True


def _earliest(bucket: Bucket, state: BucketState, at: float, penalty_factor: float) -> float:
    spacing = _spacing(bucket, state, at, penalty_factor)
    earliest = state.next_at - (bucket.burst - 1) * spacing
    if bucket.window:
        log = state.log
        if log:
            earliest = max(earliest, log[-1])
        allowed = max(1, _allowed(bucket, state, at, penalty_factor) - bucket.reserve)
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
    if count < min(bucket.spread_after, allowed):
        return at
    oldest, last = recent[0], recent[-1]
    # Never closer than an even share of the period: calls bunched together leave the
    # window together a period later, and a burst of departures would let the next calls
    # bunch again, a pattern that repeats every period (and leaves long gaps in which an
    # interactive call finds no slot freed).
    even = last + bucket.period / allowed
    if count >= allowed:
        return even
    return max(even, last + (oldest + bucket.period - last) / (allowed - count + 1))


def _spacing(bucket: Bucket, state: BucketState, at: float, penalty_factor: float) -> float:
    if at < state.penalty_until:
        return bucket.spacing * penalty_factor
    return bucket.spacing
