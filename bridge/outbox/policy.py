"""Sending limits turned into pacing buckets; each platform registers how it is paced.

Every outbox row names a `platform` and a `destination`; the policy maps the pair to the
buckets a call must pass (see `pacing.py`). The core knows no platform: the composition root
registers one `PlatformPacing` per platform family (the part of `platform` before a colon),
built by the platform's own code from its config section (`botapi/pacing.py` for the bot,
`adapters/<platform>/pacing.py` for the customer platforms). Its `buckets` function gets the
call (`PacedCall`) and a `BucketMaker` and returns the buckets in order, the destination's own
first (it takes the penalties of a 429). A family nobody registered is unlimited (our own
site widget registers none).

The maker applies what every platform shares: `headroom` (pace a little slower than the
published figure so clocks and rounding never tip us over, so the platform never has to answer
429 in the first place) and `time_scale`, and prefixes every key with the whole platform
string: a platform string may carry an account after a colon (`telegram:support_bot`,
`vk:12345`), and two bots never share one budget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: The merge limit of a platform that registered no text limit of its own.
DEFAULT_TEXT_LIMIT = 2000


@dataclass(frozen=True, slots=True)
class Bucket:
    """One pacing budget.

    GCRA kind (`window == 0`): at most one call per `interval` seconds on average, bursts of
    up to `burst`.

    Window kind (`window > 0`): at most `window` calls in any `period` (= `window * interval`)
    seconds, and besides that at most one call per `pace` seconds on average with bursts of
    up to `burst` (`pace == 0`: no such spacing). With `spread_after` = b > 0, once b calls
    lie in the window the rest of its budget is spread evenly until the oldest of them leaves
    it, so a burst never leaves the window dry for the rest of the minute (0: off).
    `reserve`: calls of the window that ordinary calls leave free for interactive ones (what
    an operator waits for right after Accept; see pacing.py).
    """

    key: str
    interval: float
    burst: int = 1
    window: int = 0
    pace: float = 0.0
    spread_after: int = 0
    reserve: int = 0

    def __post_init__(self) -> None:
        if self.interval < 0:
            raise ValueError(f"bucket {self.key!r}: interval must be >= 0, got {self.interval}")
        if self.burst < 1:
            raise ValueError(f"bucket {self.key!r}: burst must be >= 1, got {self.burst}")
        if self.window < 0:
            raise ValueError(f"bucket {self.key!r}: window must be >= 0, got {self.window}")
        if self.pace < 0:
            raise ValueError(f"bucket {self.key!r}: pace must be >= 0, got {self.pace}")
        if self.reserve < 0 or (self.window and self.reserve >= self.window):
            raise ValueError(
                f"bucket {self.key!r}: reserve must be >= 0 and below window, got {self.reserve}"
            )
        if self.spread_after < 0:
            raise ValueError(
                f"bucket {self.key!r}: spread_after must be >= 0, got {self.spread_after}"
            )

    @property
    def period(self) -> float:
        """Window kind: the seconds in which at most `window` calls may go (0 for GCRA)."""
        return self.window * self.interval

    @property
    def spacing(self) -> float:
        """The GCRA part's interval: `pace` for the window kind, `interval` otherwise."""
        return self.pace if self.window else self.interval


@dataclass(frozen=True, slots=True)
class PacedCall:
    """What a platform's bucket function sees of one call: where it goes and what it carries.

    `payload` is the outbox row's payload (the platform's own format); most platforms look at
    `destination` only.
    """

    destination: str
    payload: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class BucketMaker:
    """Makes one call's buckets: rates in calls a second, with headroom and `time_scale` applied.

    Keys are prefixed with the call's whole platform string and "|": a platform names its
    buckets by destination (`call.destination`) or "*" for its account-wide budget.
    """

    def __init__(self, platform: str, *, headroom: float, time_scale: float) -> None:
        self.prefix = f"{platform}|"
        self.headroom = headroom
        self.time_scale = time_scale

    def rate(self, key: str, per_second: float, burst: int = 1) -> Bucket:
        """A GCRA bucket: one call per 1/`per_second` s on average, bursts of up to `burst`."""
        interval = self.headroom / (per_second * self.time_scale)
        return Bucket(key=self.prefix + key, interval=interval, burst=burst)

    def window(
        self,
        key: str,
        calls: int,
        seconds: float,
        *,
        per_second: float = 0.0,
        burst: int = 1,
        spread_after: int = 0,
        reserve: int = 0,
    ) -> Bucket:
        """A window bucket: at most `calls` in any `seconds`; besides that (`per_second` > 0)
        about `per_second` calls a second with bursts of up to `burst`; see `Bucket`."""
        period = seconds * self.headroom / self.time_scale
        pace = self.headroom / (per_second * self.time_scale) if per_second else 0.0
        return Bucket(
            key=self.prefix + key,
            interval=period / calls,
            burst=burst,
            window=calls,
            pace=pace,
            spread_after=spread_after,
            reserve=reserve,
        )


#: A platform's pacing: (the call, a maker) -> the buckets it must pass, its own first.
BucketsFor = Callable[[PacedCall, BucketMaker], Sequence[Bucket]]


@dataclass(frozen=True, slots=True)
class PlatformPacing:
    """What a platform registers with the policy.

    `buckets`: its bucket function (None: unlimited). `max_text`: the longest merged text one
    message may carry (None: `DEFAULT_TEXT_LIMIT`), as `text_length` counts it (None: code
    points).
    """

    buckets: BucketsFor | None = None
    max_text: int | None = None
    text_length: Callable[[str], int] | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """The pacing numbers every platform shares."""

    # Pace a little slower than the published figure so clocks and rounding never tip us over.
    headroom: float = 1.05
    # After a 429 a destination is paced at 1/`penalty_factor` of its rate for `penalty_window`.
    penalty_factor: float = 2.0
    penalty_window_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.headroom < 1:
            raise ValueError(f"headroom must be >= 1, got {self.headroom}")
        if self.penalty_factor < 1:
            raise ValueError(f"penalty_factor must be >= 1, got {self.penalty_factor}")


class PacingPolicy:
    """Maps (platform, destination) to the buckets a call must pass.

    `platforms`: family -> its `PlatformPacing` (see the module docstring).
    `time_scale` K multiplies every rate and divides the penalty window, like the fake
    platforms' own `time_scale` (K=20: 400 group posts a minute), so a benchmark compresses
    time. It never scales a platform's own `retry_after`: that is always honoured in full.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        platforms: Mapping[str, PlatformPacing] | None = None,
        time_scale: float = 1.0,
    ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be a positive number, got {time_scale!r}")
        self.limits = limits or Limits()
        self.platforms: Mapping[str, PlatformPacing] = MappingProxyType(dict(platforms or {}))
        self.time_scale = float(time_scale)

    @property
    def penalty_window(self) -> float:
        """Seconds a destination stays slowed down after a 429."""
        return self.limits.penalty_window_seconds / self.time_scale

    @property
    def penalty_factor(self) -> float:
        """How many times slower a penalised destination is paced."""
        return self.limits.penalty_factor

    def text_limit(self, platform: str) -> int:
        """The longest text one merged message may have on this platform."""
        pacing = self.platforms.get(_family(platform))
        if pacing is None or pacing.max_text is None:
            return DEFAULT_TEXT_LIMIT
        return pacing.max_text

    def text_length(self, platform: str) -> Callable[[str], int]:
        """How this platform counts a text's length against `text_limit`."""
        pacing = self.platforms.get(_family(platform))
        if pacing is None or pacing.text_length is None:
            return len
        return pacing.text_length

    def buckets_for(
        self, platform: str, destination: str, payload: Mapping[str, Any] | None = None
    ) -> tuple[Bucket, ...]:
        """The buckets of one call; the first is the destination's own (it takes penalties).

        `payload` is the row's payload, for platforms whose limits depend on what is sent.
        """
        pacing = self.platforms.get(_family(platform))
        if pacing is None or pacing.buckets is None:
            return ()
        call = PacedCall(str(destination), payload if payload is not None else {})
        maker = BucketMaker(platform, headroom=self.limits.headroom, time_scale=self.time_scale)
        return tuple(pacing.buckets(call, maker))


def _family(platform: str) -> str:
    return platform.split(":", 1)[0]
