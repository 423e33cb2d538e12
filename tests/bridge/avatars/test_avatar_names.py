"""Display names: the name when known, "Guest N" / "Гость N" when not."""

from __future__ import annotations

import pytest

from bridge.avatars import display_name


def test_known_name_is_shown_with_whitespace_tidied() -> None:
    assert display_name("  Иван   Петров ", 17, "ru") == "Иван Петров"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Guest 17"),
        ("ru", "Гость 17"),
        ("ru-RU", "Гость 17"),
        ("RU", "Гость 17"),
        ("uk", "Гість 17"),
        ("de", "Guest 17"),
        ("", "Guest 17"),
    ],
)
def test_unknown_name_is_guest_with_number_in_operators_language(
    language: str, expected: str
) -> None:
    assert display_name(None, 17, language) == expected


def test_blank_name_counts_as_unknown() -> None:
    assert display_name("   ", 3, "en") == "Guest 3"


def test_guest_without_number_is_just_guest() -> None:
    assert display_name(None, None, "ru") == "Гость"


@pytest.mark.parametrize("number", [0, -5])
def test_guest_number_below_one_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match="guest_number"):
        display_name(None, number, "en")
