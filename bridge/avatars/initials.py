"""Initials for an avatar: the first letter of each of the first two words of a name.

Rules (each one is tested):
- words are separated by whitespace; a hyphenated name is one word ("Mary-Jane Watson" -> "MW");
- in each word the first *letter* counts: digits, punctuation, symbols and emoji are skipped, and a
  word with no letter at all is skipped as a whole ("🙂 Anna Lee" -> "AL");
- the text is NFC-normalised first, so a letter written as base + combining accent counts as one
  letter, and combining marks on their own never become an initial;
- compatibility forms are unfolded per letter with NFKC (fullwidth "Ａ" -> "A", the ligature "ﬁ" ->
  "F", mathematical "𝐀" -> "A", the digraph "ǅ" -> "D");
- each initial is upper-cased; when upper-casing yields several characters ("ß" -> "SS") only the
  first letter is kept, so the result is at most two characters, each one a letter;
- a name with no letter at all gives `NEUTRAL_GLYPH`; the renderer draws a person silhouette.
"""

from __future__ import annotations

import unicodedata

NEUTRAL_GLYPH = "•"
"""What `initials` returns for a name without a single letter (U+2022 BULLET, not a letter)."""


def initials(name: str | None) -> str:
    """Return at most two upper-case letters for `name`, or `NEUTRAL_GLYPH` when it has none.

    Pure and total: never raises for any string, never returns an empty string.
    """
    if not name:
        return NEUTRAL_GLYPH
    letters: list[str] = []
    for word in unicodedata.normalize("NFC", name).split():
        letter = _first_letter(word)
        if letter:
            letters.append(letter)
            if len(letters) == 2:
                break
    return "".join(letters) or NEUTRAL_GLYPH


def _first_letter(word: str) -> str | None:
    for char in word:
        if char.isalpha():
            return _as_initial(char)
    return None


def _as_initial(letter: str) -> str:
    """One upper-case letter standing for `letter` (which is itself a letter)."""
    unfolded = unicodedata.normalize("NFKC", letter)
    base = _pick_letter(unfolded) or letter
    upper = unicodedata.normalize("NFC", base.upper())
    if len(upper) == 1 and upper.isalpha():
        return upper
    return _pick_letter(upper) or base


def _pick_letter(text: str) -> str | None:
    """The first letter of `text`, preferring a real letter over a modifier letter (ʼ in "ʼN")."""
    alphas = [char for char in text if char.isalpha()]
    for char in alphas:
        if unicodedata.category(char) != "Lm":
            return char
    return alphas[0] if alphas else None
