"""Dashboard numbers: '!' above 9, 'new messages' rule, the share of the group budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bridge.core.counters import (
    Counts,
    dashboard_interval,
    has_new_messages,
    render_dashboard,
    shown,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(("count", "label"), [(0, "0"), (9, "9"), (10, "!"), (250, "!")])
def test_counter_is_shown_as_bang_above_nine(count: int, label: str) -> None:
    assert shown(count) == label


def test_negative_counter_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        shown(-1)


def test_claimed_conversation_has_new_messages_until_the_claimer_replies() -> None:
    assert has_new_messages(T0, None)
    assert has_new_messages(T0 + timedelta(seconds=1), T0)
    assert not has_new_messages(T0, T0 + timedelta(seconds=1))
    assert not has_new_messages(None, None)


def test_dashboard_shows_left_right_and_total() -> None:
    rendered = render_dashboard(Counts(new=3, unanswered=4), "en")
    assert "New in the feed: <b>3</b>" in rendered
    assert "With new messages: <b>4</b>" in rendered
    assert "Total: <b>7</b>" in rendered
    assert "Всего: <b>!</b>" in render_dashboard(Counts(new=6, unanswered=4), "ru")


def test_dashboard_interval_spends_the_configured_share_of_the_group_budget() -> None:
    assert dashboard_interval(20, 0.1) == pytest.approx(30.0)
    assert dashboard_interval(200, 0.1) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        dashboard_interval(20, 0)
