"""The busy-private scenario's figures (bench/_private.py): the bound, and the table rows that
put `mode: private` next to the same load in `mode: topics`."""

from __future__ import annotations

from types import SimpleNamespace

from bench._private import PrivateObserver, private_bound
from bench.relay import parse_args, table


def test_the_bound_is_five_conversations_per_operator_chat_at_one_post_a_second() -> None:
    assert private_bound() == 5.0


def test_busiest_second_counts_posts_of_one_chat_only() -> None:
    observer = PrivateObserver(fakes=SimpleNamespace(), chats={1, 2})
    observer.posts = [(0.0, 1), (0.5, 2), (0.9, 1), (1.0, 2), (3.0, 1)]
    assert observer.busiest_second(0.0, 10.0, 1.0) == 2
    assert observer.busiest_second(2.0, 10.0, 1.0) == 1


def test_busy_private_is_a_scenario() -> None:
    names, _, _ = parse_args(["busy-private"])
    assert names == ["busy-private"]


def test_the_table_shows_private_and_topics_side_by_side_with_the_ratio() -> None:
    private = {
        "lost": 0,
        "too_many_requests": 0,
        "latency_s": {"p50": 0.3, "p95": 1.1, "max": 1.9},
        "floor_s": {"p50": 0.2, "p95": 0.3, "max": 0.3},
        "bound_s": 5.0,
    }
    topics = {"latency_s": {"p50": 30.4, "p95": 59.8, "max": 62.7}, "bound_s": 60.0}
    figures = {
        "private": private,
        "topics": topics,
        "topics_p95_over_private_p95": 54.4,
        "met": True,
    }
    text = table({"scenarios": {"busy-private": figures}})
    assert "0.3 s / 1.1 s (5 s)" in text and "p95 <= 1.25 x bound = 6.25 s (met)" in text
    assert "floor" in text and "0.2 s" in text
    assert "30.4 s / 59.8 s (60 s)" in text and "54.4x" in text
    figures["topics"] = {"error": "RuntimeError: boom"}
    assert "RuntimeError: boom" in table({"scenarios": {"busy-private": figures}})
