"""How the bot's Bot API calls are paced: Telegram's published limits as outbox buckets.

- one private chat: 1 call a second;
- one group: 20 calls a minute (every call that posts into the group: sends, edits, topic
  creation, pins). A negative chat id is a group. A group's own bucket is a *window*: at most
  20 calls in any 60 s (times headroom), and at the same time about 1 call a second with
  short bursts (`chat_burst`), because a group is also a chat. So a quiet group posts a few
  messages at once instead of one every 3 s, and a busy one still never has more than 20 in
  any minute;
- the whole bot: 30 calls a second.

`platform_pacing(config.telegram.limits)` is what the runtime registers for "telegram" (the
operators' desk and the Telegram customers share the one bot). A group's window leaves
`interactive_reserve` posts to what an operator waits for after Accept only while a card may
be waiting there: `cards_waiting(chat)` (desk/cards_waiting.py) says so; a group where nobody
can press Accept gives ordinary posts its whole window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from bridge.core.cards import MESSAGE_LIMIT, tg_length
from bridge.outbox.policy import Bucket, BucketMaker, BucketsFor, PacedCall, PlatformPacing

#: The longest message text (Telegram counts UTF-16 units after entity parsing). The outbox
#: merges texts up to this many UTF-16 units of raw HTML (`tg_length`; the tags make it an
#: overestimate), so a merge never passes Telegram's limit; the sender (botapi/sender.py)
#: still cuts a longer text into pieces as a safety net.
MAX_TEXT = MESSAGE_LIMIT


class TelegramRates(Protocol):
    """The config section `telegram.limits`."""

    @property
    def per_chat_per_second(self) -> float: ...

    @property
    def per_group_per_minute(self) -> float: ...

    @property
    def global_per_second(self) -> float: ...


@dataclass(frozen=True, slots=True)
class TelegramPacing:
    """The bot's pacing numbers (calls per second unless the name says otherwise)."""

    private_per_second: float = 1.0
    group_per_minute: float = 20.0
    global_per_second: float = 30.0
    # Calls one chat (a group too) may take at once before the ~1/s pace applies. Telegram
    # tolerates "short bursts" (the fake: 3); one less leaves a call's worth of slack for a
    # reserved call that reaches Telegram late while the next one is on time.
    chat_burst: int = 2
    # Posts a quiet group may send at once before the rest of the minute's budget is spread.
    group_burst: int = 10
    # Posts of a group's minute that ordinary traffic leaves to what an operator waits for
    # right after Accept (the topic, its history): bridge/outbox/pacing.py; only while a card
    # may be waiting in the group (`cards_waiting`, desk/cards_waiting.py).
    interactive_reserve: int = 1

    def __post_init__(self) -> None:
        for name in ("private_per_second", "group_per_minute", "global_per_second"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"limit {name} must be a positive number, got {value!r}")
        for name in ("chat_burst", "group_burst"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")

    @classmethod
    def from_section(cls, section: TelegramRates) -> TelegramPacing:
        """The numbers of the config section `telegram.limits` (bursts at their defaults)."""
        return cls(
            private_per_second=section.per_chat_per_second,
            group_per_minute=section.per_group_per_minute,
            global_per_second=section.global_per_second,
        )


#: Whether a card may be waiting for Accept in the group with this chat id (as a string).
CardsWaiting = Callable[[str], bool]


def buckets(
    pacing: TelegramPacing | None = None, *, cards_waiting: CardsWaiting | None = None
) -> BucketsFor:
    """The bucket function of the bot: a chat's (or group's window) own bucket, then the bot's.

    `cards_waiting`: see the module docstring; None keeps the reserve in every group."""
    rates = pacing or TelegramPacing()

    def buckets_for(call: PacedCall, make: BucketMaker) -> Sequence[Bucket]:
        bot = make.rate("*", rates.global_per_second)
        if call.destination.startswith("-"):
            held = cards_waiting is None or cards_waiting(call.destination)
            return (_group_window(call.destination, rates, make, reserve=held), bot)
        return (make.rate(call.destination, rates.private_per_second), bot)

    return buckets_for


def platform_pacing(
    section: TelegramRates | None = None, *, cards_waiting: CardsWaiting | None = None
) -> PlatformPacing:
    """What the runtime registers for "telegram": the buckets of `section` and `MAX_TEXT`."""
    pacing = TelegramPacing.from_section(section) if section is not None else TelegramPacing()
    return PlatformPacing(
        buckets=buckets(pacing, cards_waiting=cards_waiting),
        max_text=MAX_TEXT,
        text_length=tg_length,
    )


def _group_window(
    chat: str, rates: TelegramPacing, make: BucketMaker, *, reserve: bool = True
) -> Bucket:
    """A group: N posts in any 60 s (with headroom, scaled), ~1/s with bursts.

    A quiet group posts up to `group_burst` at once; past that the rest of the window's budget
    is spread evenly until the burst leaves it. The window alone would let a storm spend the
    minute's budget in its first seconds and then stay silent for the rest of it (digest edits
    and relayed messages waited ~40 s); a fixed even pace after the burst still ran the window
    dry halfway through the minute.
    """
    count = max(1, math.floor(rates.group_per_minute))
    return make.window(
        chat,
        calls=count,
        seconds=60.0,
        per_second=rates.private_per_second,
        burst=rates.chat_burst,
        spread_after=min(rates.group_burst, count),
        reserve=min(rates.interactive_reserve, count - 1) if reserve else 0,
    )
