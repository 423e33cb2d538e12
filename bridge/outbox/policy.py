"""Per-platform sending limits turned into pacing buckets.

Every outbox row names a `platform` and a `destination`; the policy maps the pair to the
buckets a call must pass (see `pacing.py`). The numbers come from config and default to the
published limits in specs/LIMITS.md, with a little headroom so the platform never has to
answer 429 in the first place:

- Telegram: one private chat 1/s; one group 20/min (every call that posts into the group:
  sends, edits, topic creation, pins); the whole bot 30/s. A negative chat id is a group.
  A group's own bucket is a *window*: at most 20 calls in any 60 s (times headroom), and at
  the same time about 1 call a second with short bursts (`telegram_chat_burst`), because a
  group is also a chat. So a quiet group posts a few messages at once instead of one every
  3 s, and a busy one still never has more than 20 in any minute.
- VK: 20 calls/s per community token.
- Viber: no per-second cap is published; 10/s overall is a conservative default, and 1/s per user.
- Facebook: 300 calls/s per Page are published, but "too many messages into one thread may be
  throttled": 20/s per Page and 1/s per thread by default.
- site: our own widget, unlimited.

A platform string may carry an account after a colon (`telegram:support_bot`, `vk:12345`):
buckets are keyed by the whole string, so two bots never share one budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


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
    """

    key: str
    interval: float
    burst: int = 1
    window: int = 0
    pace: float = 0.0
    spread_after: int = 0

    def __post_init__(self) -> None:
        if self.interval < 0:
            raise ValueError(f"bucket {self.key!r}: interval must be >= 0, got {self.interval}")
        if self.burst < 1:
            raise ValueError(f"bucket {self.key!r}: burst must be >= 1, got {self.burst}")
        if self.window < 0:
            raise ValueError(f"bucket {self.key!r}: window must be >= 0, got {self.window}")
        if self.pace < 0:
            raise ValueError(f"bucket {self.key!r}: pace must be >= 0, got {self.pace}")
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
class Limits:
    """The configurable rate numbers (calls per second unless the name says otherwise)."""

    telegram_private_per_second: float = 1.0
    telegram_group_per_minute: float = 20.0
    telegram_global_per_second: float = 30.0
    vk_per_second: float = 20.0
    viber_per_second: float = 10.0
    viber_user_per_second: float = 1.0
    facebook_per_second: float = 20.0
    facebook_thread_per_second: float = 1.0
    # Calls one Telegram chat (a group too) may take at once before the ~1/s pace applies.
    # Telegram tolerates "short bursts" (the fake: 3); one less leaves a call's worth of slack
    # for a reserved call that reaches Telegram late while the next one is on time.
    telegram_chat_burst: int = 2
    # Posts a quiet group may send at once before the rest of the minute's budget is spread.
    telegram_group_burst: int = 10
    # Pace a little slower than the published figure so clocks and rounding never tip us over.
    headroom: float = 1.05
    # After a 429 a destination is paced at 1/`penalty_factor` of its rate for `penalty_window`.
    penalty_factor: float = 2.0
    penalty_window_seconds: float = 60.0
    # Longest merged text per platform family (Telegram counts after entity parsing; we count
    # the raw HTML, which is never shorter).
    text_limits: dict[str, int] = field(
        default_factory=lambda: {"telegram": 4096, "vk": 9000, "viber": 7000, "facebook": 2000}
    )

    def __post_init__(self) -> None:
        for name in (
            "telegram_private_per_second",
            "telegram_group_per_minute",
            "telegram_global_per_second",
            "vk_per_second",
            "viber_per_second",
            "viber_user_per_second",
            "facebook_per_second",
            "facebook_thread_per_second",
        ):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"limit {name} must be a positive number, got {value!r}")
        burst = self.telegram_chat_burst
        if isinstance(burst, bool) or not (isinstance(burst, int) and burst >= 1):
            raise ValueError(f"telegram_chat_burst must be a whole number >= 1, got {burst!r}")
        group_burst = self.telegram_group_burst
        if isinstance(group_burst, bool) or not isinstance(group_burst, int) or group_burst < 1:
            raise ValueError(
                f"telegram_group_burst must be a whole number >= 1, got {group_burst!r}"
            )
        if self.headroom < 1:
            raise ValueError(f"headroom must be >= 1, got {self.headroom}")
        if self.penalty_factor < 1:
            raise ValueError(f"penalty_factor must be >= 1, got {self.penalty_factor}")


class PacingPolicy:
    """Maps (platform, destination) to the buckets a call must pass.

    `time_scale` K multiplies every rate and divides the penalty window, like the fake
    platforms' own `time_scale` (K=20: 400 group posts a minute), so a benchmark compresses
    time. It never scales a platform's own `retry_after`: that is always honoured in full.
    """

    def __init__(self, limits: Limits | None = None, *, time_scale: float = 1.0) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be a positive number, got {time_scale!r}")
        self.limits = limits or Limits()
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
        return self.limits.text_limits.get(_family(platform), 2000)

    def buckets_for(self, platform: str, destination: str) -> tuple[Bucket, ...]:
        """The buckets of one call; the first is the destination's own (it takes penalties)."""
        family = _family(platform)
        lim = self.limits
        if family == "telegram":
            bot = self._bucket(f"{platform}|*", lim.telegram_global_per_second)
            if str(destination).startswith("-"):
                return (self._window_bucket(f"{platform}|{destination}"), bot)
            own = self._bucket(f"{platform}|{destination}", lim.telegram_private_per_second)
            return (own, bot)
        if family == "vk":
            return (self._bucket(f"{platform}|*", lim.vk_per_second),)
        if family == "viber":
            return (
                self._bucket(f"{platform}|{destination}", lim.viber_user_per_second),
                self._bucket(f"{platform}|*", lim.viber_per_second),
            )
        if family == "facebook":
            return (
                self._bucket(f"{platform}|{destination}", lim.facebook_thread_per_second),
                self._bucket(f"{platform}|*", lim.facebook_per_second),
            )
        return ()

    def _bucket(self, key: str, per_second: float) -> Bucket:
        return Bucket(key=key, interval=self.limits.headroom / (per_second * self.time_scale))

    def _window_bucket(self, key: str) -> Bucket:
        """A Telegram group: N posts in any 60 s (with headroom, scaled), ~1/s with bursts.

        A quiet group posts up to `telegram_group_burst` at once; past that the rest of the
        window's budget is spread evenly until the burst leaves it. The window alone would
        let a storm spend the minute's budget in its first seconds and then stay silent for
        the rest of it (digest edits and relayed messages waited ~40 s); a fixed even pace
        after the burst still ran the window dry halfway through the minute.
        """
        lim = self.limits
        count = max(1, math.floor(lim.telegram_group_per_minute))
        period = 60.0 * lim.headroom / self.time_scale
        return Bucket(
            key=key,
            interval=period / count,
            burst=lim.telegram_chat_burst,
            window=count,
            pace=lim.headroom / (lim.telegram_private_per_second * self.time_scale),
            spread_after=min(lim.telegram_group_burst, count),
        )


def _family(platform: str) -> str:
    return platform.split(":", 1)[0]
