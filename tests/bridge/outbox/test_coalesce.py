"""Merging of held-back text rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.outbox.coalesce import format_part, mergeable_prefix, merged_payload


@dataclass
class Row:
    payload: dict[str, Any] = field(default_factory=dict)
    kind: str = "text"
    coalesce_key: str | None = "topic:7"


def text(author: str, body: str, at: str = "14:02", key: str = "topic:7") -> Row:
    params = {"chat_id": -100, "message_thread_id": 7, "text": body}
    part = {"author": author, "at": at, "html": body}
    return Row({"method": "sendMessage", "params": params, "part": part}, coalesce_key=key)


def test_part_is_headed_by_escaped_author_and_time() -> None:
    part = {"author": "Ivan <Petrov>", "at": "14:02", "html": "a &amp; b"}
    assert format_part(part) == "<b>Ivan &lt;Petrov&gt;</b> · 14:02\na &amp; b"


def test_consecutive_texts_merge_in_order() -> None:
    rows = [text("Ivan", "one"), text("Ivan", "two"), text("Olga", "three", at="14:03")]
    assert mergeable_prefix(rows, 4096) == 3
    merged = merged_payload(rows)
    assert merged["params"]["text"] == (
        "<b>Ivan</b> · 14:02\none\n\n<b>Ivan</b> · 14:02\ntwo\n\n<b>Olga</b> · 14:03\nthree"
    )
    assert merged["params"]["parse_mode"] == "HTML"
    assert merged["params"]["message_thread_id"] == 7
    assert "part" not in merged


def test_lone_row_is_sent_as_the_caller_wrote_it() -> None:
    row = text("Ivan", "alone")
    assert merged_payload([row]) is row.payload


def test_merge_stops_at_the_text_limit() -> None:
    rows = [text("A", "x" * 2000) for _ in range(5)]
    count = mergeable_prefix(rows, 4096)
    assert count == 2
    assert len(merged_payload(rows[:count])["params"]["text"]) <= 4096


def test_merge_stops_at_another_key_or_kind() -> None:
    photo = Row({"method": "sendPhoto", "params": {}}, kind="photo")
    assert mergeable_prefix([text("A", "1"), text("A", "2", key="other")], 4096) == 1
    assert mergeable_prefix([text("A", "1"), photo, text("A", "3")], 4096) == 1
    assert mergeable_prefix([photo, text("A", "1")], 4096) == 1


def test_oversized_head_still_goes_alone() -> None:
    assert mergeable_prefix([text("A", "x" * 5000), text("A", "y")], 4096) == 1
