"""Initials: the examples from the issue, tricky Unicode, and a property over any text."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.avatars import NEUTRAL_GLYPH, initials


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Иван Петров", "ИП"),
        ("анна", "А"),
        ("Mary-Jane Watson", "MW"),
        ("  jean   luc ", "JL"),
        ("Ivan Ivanovich Petrov", "II"),
        ("Ελένη Παπαδοπούλου", "ΕΠ"),
        ("محمد علي", "مع"),
        ("王小明", "王"),
        ("🙂 Anna Lee", "AL"),
        ("(bob) o'neil", "BO"),
        ("#1 fan 🎉", "F"),
        ("e\u0301mile zola", "ÉZ"),
        ("Ａｎｎａ", "A"),
        ("ﬁona apple", "FA"),
        ("ǅemal Bijedić", "DB"),
    ],
)
def test_initials_take_first_letters_of_first_two_words(name: str, expected: str) -> None:
    assert initials(name) == expected


@pytest.mark.parametrize("name", [None, "", "   ", "123", "!!! ???", "🙂🙂", "\u0301\u0301"])
def test_name_without_letters_gives_the_neutral_glyph(name: str | None) -> None:
    assert initials(name) == NEUTRAL_GLYPH
    assert not NEUTRAL_GLYPH.isalpha()


@pytest.mark.parametrize(("name", "expected"), [("ßtraße x", "SX"), ("ŉ x", "NX"), ("ǰ y", "JY")])
def test_letters_whose_upper_case_is_two_characters_keep_one(name: str, expected: str) -> None:
    assert initials(name) == expected


def test_combining_marks_alone_never_become_initials() -> None:
    assert initials("\u0301a \u0308b") == "AB"


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_initials_of_any_text_are_one_or_two_letters_or_the_neutral_glyph(name: str) -> None:
    result = initials(name)
    assert 1 <= len(result) <= 2
    assert result == NEUTRAL_GLYPH or all(char.isalpha() for char in result)
    if any(char.isalpha() for char in unicodedata.normalize("NFC", name)):
        assert result != NEUTRAL_GLYPH


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Lt", "Lo"])), min_size=1))
def test_initials_count_words_that_contain_letters(words: list[str]) -> None:
    result = initials(" ".join(words))
    worded = [w for w in words if w]
    assert len(result) == (min(2, len(worded)) if worded else 1)
