"""Merging counts a text as the platform does: Telegram's 4,096 are UTF-16 units (an emoji is
two), so an emoji-heavy merge stops before Telegram would refuse it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.config import parse_config
from app.pacing import pacing_policy
from bridge.core.cards import tg_length
from bridge.outbox.coalesce import PART_SEPARATOR, format_part, mergeable_prefix, merged_payload
from bridge.outbox.policy import PacingPolicy

EMOJI = "\N{GRINNING FACE}"  # one code point, two UTF-16 units


@dataclass
class Row:
    payload: dict[str, Any] = field(default_factory=dict)
    kind: str = "text"
    coalesce_key: str | None = "topic:1"


def emoji_row(n: int, count: int = 700) -> Row:
    html = f"message {n} " + EMOJI * count
    return Row({"part": {"author": "Anna", "at": "14:02", "html": html}})


def runtime_policy() -> PacingPolicy:
    """The policy the service builds from a config (the bot's pacing from botapi.pacing)."""
    config = parse_config(
        {
            "database": "sqlite:///bridge.db",
            "http": {"host": "127.0.0.1", "port": 8080, "public_url": "https://example.org"},
            "telegram": {"token": "1:abcdef"},
            "groups": {"support": {"chat_id": -1001}},
            "channels": {"telegram": {"group": "support"}},
        }
    )
    return pacing_policy(config)


def test_telegram_counts_utf16_units_when_merging() -> None:
    policy = runtime_policy()
    limit, length_of = policy.text_limit("telegram"), policy.text_length("telegram")
    assert (limit, length_of) == (4096, tg_length)
    rows = [emoji_row(n) for n in range(5)]
    # Counted in code points, five parts of ~720 characters fit into 4,096...
    assert mergeable_prefix(rows, limit, len) == 5
    # ...but Telegram counts ~1,420 units a part: only two fit.
    count = mergeable_prefix(rows, limit, length_of)
    assert count == 2
    text = merged_payload(rows[:count])["params"]["text"]
    assert tg_length(text) <= 4096
    third = tg_length(PART_SEPARATOR + format_part(rows[2].payload["part"]))
    assert tg_length(text) + third > 4096  # the next part would not have fitted


def test_other_platforms_keep_counting_code_points() -> None:
    policy = runtime_policy()
    assert policy.text_length("vk") is len
