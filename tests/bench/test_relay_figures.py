"""The relay benchmark's arithmetic: percentiles, waiting time, what counts as a group post."""

from __future__ import annotations

import pytest

from bench._harness import TAG, counts_against_group, percentile, tag, union_length
from bench.relay import parse_args, table


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 95) is None
    assert percentile([3.0], 50) == 3.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 95) == pytest.approx(95.0)


def test_union_length_merges_overlapping_waits() -> None:
    total, merged = union_length([(0.0, 2.0), (1.0, 3.0), (5.0, 6.0)])
    assert total == 4.0
    assert merged == [(0.0, 3.0), (5.0, 6.0)]


def test_only_calls_that_post_into_a_chat_count_against_the_group_budget() -> None:
    for method in ("sendMessage", "sendPhoto", "editMessageText", "createForumTopic"):
        assert counts_against_group(method)
    for method in ("pinChatMessage", "deleteMessage", "reopenForumTopic"):
        assert counts_against_group(method)
    for method in ("getUpdates", "answerCallbackQuery", "getChatMember", "getMe"):
        assert not counts_against_group(method)


def test_a_tag_is_found_in_merged_and_escaped_text() -> None:
    merged = f"<b>Ann</b> · 14:02\nhello {tag(3, 7)}\n\n<b>Ann</b> · 14:03\nagain {tag(3, 8)}"
    assert TAG.findall(merged) == [("3", "7"), ("3", "8")]
    assert TAG.findall("Q12N3") == []  # a cut tag is not a match


def test_bad_arguments_are_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        parse_args(["nonsense"])
    assert "unknown scenario 'nonsense'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["light", "-k", "0"])
    names, options, _ = parse_args(["storm", "-k", "2"])
    assert names == ["storm"] and options.time_scale == 2


def test_the_table_shows_each_scenario_and_an_error() -> None:
    results = {
        "scenarios": {
            "storm": {
                "latency_s": {"p50": 10.0, "p95": 20.0, "max": 25.0},
                "lost": 0,
                "too_many_requests": 0,
                "met": True,
            },
            "memory": {"error": "RuntimeError: boom"},
        }
    }
    text = table(results)
    assert "storm" in text and "10.0 s / 20.0 s" in text and "(met)" in text
    assert "memory" in text and "RuntimeError: boom" in text
