"""Visitors remembered with an open conversation: for TTL seconds, never "not open", bounded."""

from __future__ import annotations

from adapters.site.open_visitors import OpenVisitors


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_visitor_is_remembered_for_the_ttl_after_each_stored_message() -> None:
    clock = Clock()
    seen = OpenVisitors(ttl=10, clock=clock)
    assert "v1" not in seen
    seen.remember("v1")
    clock.now += 9
    assert "v1" in seen
    seen.remember("v1")  # another message: remembered again from now
    clock.now += 9
    assert "v1" in seen
    clock.now += 1
    assert "v1" not in seen  # asked about again


def test_the_oldest_visitors_are_forgotten_past_the_bound() -> None:
    seen = OpenVisitors(ttl=10, max_visitors=2, clock=Clock())
    for visitor in ("a", "b", "c"):
        seen.remember(visitor)
    assert ["a" in seen, "b" in seen, "c" in seen] == [False, True, True]
    seen.forget("b")
    assert "b" not in seen
