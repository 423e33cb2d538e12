"""Display names: the name when known, otherwise "Guest N" in the operators' language."""

from __future__ import annotations

GUEST_WORDS = {
    "en": "Guest",
    "ru": "Гость",
    "uk": "Гість",
    "be": "Госць",
}
"""The word for "guest" per language; any other language falls back to English."""


def guest_word(language: str) -> str:
    """The word for "guest" in `language` ("ru", "ru-RU", "ru_RU" and "RU" all mean Russian)."""
    primary = (language or "en").replace("_", "-").split("-", 1)[0].strip().lower()
    return GUEST_WORDS.get(primary, GUEST_WORDS["en"])


def display_name(name: str | None, guest_number: int | None, language: str) -> str:
    """The name to show operators: `name` with its whitespace tidied, or "Guest 17" / "Гость 17".

    A name that is empty or only whitespace counts as unknown. Without a guest number an unknown
    customer is just "Guest". A guest number below 1 is a bug upstream and raises ValueError.
    """
    if name is not None:
        tidy = " ".join(name.split())
        if tidy:
            return tidy
    word = guest_word(language)
    if guest_number is None:
        return word
    if isinstance(guest_number, bool) or not isinstance(guest_number, int):
        raise TypeError(f"guest_number must be an int, got {type(guest_number).__name__}")
    if guest_number < 1:
        raise ValueError(f"guest_number must be 1 or more, got {guest_number}")
    return f"{word} {guest_number}"
