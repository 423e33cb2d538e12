"""Avatar background colours: a palette that keeps white initials readable, chosen stably per id.

Every colour has a WCAG 2 contrast ratio of at least 4.5 against white (the "AA" level for normal
text); the tests check it. The colour for a customer comes from a BLAKE2 hash of their id, so it is
the same in every process and after every restart (Python's `hash()` is salted per process).
"""

from __future__ import annotations

import hashlib

PALETTE: tuple[str, ...] = (
    "#DC2626",  # red
    "#C2410C",  # orange
    "#B45309",  # amber
    "#4D7C0F",  # lime
    "#15803D",  # green
    "#047857",  # emerald
    "#0F766E",  # teal
    "#0E7490",  # cyan
    "#0369A1",  # sky
    "#2563EB",  # blue
    "#4F46E5",  # indigo
    "#7C3AED",  # violet
    "#9333EA",  # purple
    "#A21CAF",  # fuchsia
    "#BE185D",  # pink
    "#E11D48",  # rose
)

GUEST_GREY = "#6B7280"
"""Background of a customer whose name is unknown (contrast with white: 4.83)."""

WHITE = "#FFFFFF"


def colour_for(seed: str) -> str:
    """The palette colour for `seed` (a customer id): stable across processes, varied by id."""
    digest = hashlib.blake2b(seed.encode("utf-8"), digest_size=8).digest()
    return PALETTE[int.from_bytes(digest, "big") % len(PALETTE)]


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """'#2563EB' -> (37, 99, 235). Raises ValueError for anything but #RRGGBB."""
    text = colour.removeprefix("#")
    if len(text) != 6:
        raise ValueError(f"expected a colour like #2563EB, got {colour!r}")
    try:
        value = int(text, 16)
    except ValueError:
        raise ValueError(f"expected a colour like #2563EB, got {colour!r}") from None
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour, 0 (black) to 1 (white)."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = hex_to_rgb(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two colours, 1 to 21."""
    light, dark = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
