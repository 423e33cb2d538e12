"""Fonts for initials: PT Sans Bold from the `fontpkg-pt-sans` package, then system fallbacks.

PT Sans covers Latin and Cyrillic. For other scripts (Greek, Arabic, Hebrew, Georgian, ...) the
renderer falls back to DejaVu Sans Bold when the system has it. A letter no font covers would
render as the missing-glyph box, so `font_for` reports "no font" and the renderer draws the
neutral person silhouette instead.

Coverage is decided the way a reader would see it: a character is covered when its rendered mask
differs from the font's .notdef (missing-glyph) rendering.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import ImageFont

FALLBACK_FONT_PATHS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/DejaVuSans-Bold.ttf",
)
"""Fallbacks tried in order; the first that exists is used. Missing ones are simply skipped."""

NOT_A_CHARACTER = "\U0010fffd"
"""A private-use code point no font maps, so it always renders as .notdef."""

_PROBE_SIZE = 48


def primary_font_path() -> Path:
    """The PT Sans Bold file shipped by `fontpkg-pt-sans` (found through its metadata.json)."""
    import fontpkg_pt_sans

    root = Path(fontpkg_pt_sans.ROOT)
    meta = json.loads((root / "metadata.json").read_text(encoding="utf-8"))
    for entry in meta.get("files", []):
        if entry.get("weight") == 700 and entry.get("style") == "normal":
            path = root / entry["path"]
            if path.is_file():
                return path
    raise RuntimeError(f"fontpkg-pt-sans at {root} has no bold upright font file")


@cache
def font_chain() -> tuple[Path, ...]:
    """The font files to try for initials, best first."""
    fallbacks = [Path(p) for p in FALLBACK_FONT_PATHS if Path(p).is_file()]
    return (primary_font_path(), *fallbacks[:1])


@lru_cache(maxsize=64)
def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """A FreeType font object for `path` at `size` pixels (cached; font objects are reusable)."""
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size)


def glyph_mask(path: Path, char: str, size: int = _PROBE_SIZE) -> tuple[tuple[int, int], bytes]:
    """The rendered 8-bit mask of `char` in the font at `path`: (width, height) and its bytes."""
    mask = load_font(path, size).getmask(char)
    return mask.size, bytes(mask)


@lru_cache(maxsize=4096)
def covers(path: Path, char: str) -> bool:
    """True when the font at `path` draws a real glyph for `char` (not its missing-glyph box)."""
    return glyph_mask(path, char) != glyph_mask(path, NOT_A_CHARACTER)


def font_for(text: str) -> Path | None:
    """The first font in the chain that draws every character of `text`, or None if none does."""
    for path in font_chain():
        if all(covers(path, char) for char in text):
            return path
    return None
