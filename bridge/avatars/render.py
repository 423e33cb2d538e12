"""Draw an avatar: a round PNG with white initials on a colour, and a platform badge in a corner.

Everything is drawn at 4x (2x above 512 px) and downsampled with Lanczos, which anti-aliases the
circle, the glyphs and the badge. Outside the circle the PNG is transparent.

- A known customer: a palette colour picked from their id (`palette.colour_for`), initials.
- A guest (name unknown): grey (`palette.GUEST_GREY`) with a person silhouette.
- A known name without any letter ("🙂", "12345"), or with letters no bundled font can draw
  (e.g. Chinese): the palette colour with the same person silhouette, never a missing-glyph box.

Pillow is imported when an avatar is first drawn, not with this module (issue 16: a service
that draws none, e.g. one restarted with every open conversation's card queued, never loads it).
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bridge.avatars import fonts
from bridge.avatars.badges import Badge, draw_badge, shape_mask
from bridge.avatars.initials import NEUTRAL_GLYPH, initials
from bridge.avatars.palette import GUEST_GREY, colour_for, hex_to_rgb

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

MIN_SIZE = 16
MAX_SIZE = 1024
DEFAULT_SIZE = 256
STYLE_VERSION = 1
"""Bumped whenever the drawing changes, so cached uploads (Telegram file_ids) are not reused."""

_BADGE_DIAMETER = 0.34  # of the avatar's side
_BADGE_RING = 0.035  # transparent gap around the badge, of the avatar's side
_TEXT_HEIGHT = 0.30  # cap height of the initials, of the avatar's side
_TEXT_WIDTH = 0.58  # widest the initials may be, of the avatar's side
_INK = (255, 255, 255, 255)


@dataclass(frozen=True)
class AvatarStyle:
    """Everything that decides an avatar's pixels; equal styles render identical PNGs.

    `mark` is the initials, or `NEUTRAL_GLYPH` for the person silhouette. `badge` is the
    platform's badge (from the `Badges` registry the composition root hands over), or None for
    no badge.
    """

    mark: str
    background: str
    badge: Badge | None
    size: int = DEFAULT_SIZE

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"avatar size must be {MIN_SIZE}..{MAX_SIZE} pixels, got {self.size}")
        hex_to_rgb(self.background)
        if not self.mark or len(self.mark) > 2:
            raise ValueError(f"mark must be one or two characters, got {self.mark!r}")

    @classmethod
    def for_customer(
        cls, name: str | None, *, badge: Badge | None, seed: str, size: int = DEFAULT_SIZE
    ) -> AvatarStyle:
        """The style for a customer: `name` None (or blank) is a guest; `seed` is their id."""
        if name is None or not name.strip():
            return cls(NEUTRAL_GLYPH, GUEST_GREY, badge, size)
        return cls(initials(name), colour_for(seed), badge, size)

    @property
    def key(self) -> str:
        """A stable text key for caches and stored uploads, e.g. 'v1:256:vk:#2563EB:ИП'."""
        badge = self.badge.name if self.badge is not None else "-"
        return f"v{STYLE_VERSION}:{self.size}:{badge}:{self.background}:{self.mark}"


def render_avatar(
    name: str | None, *, badge: Badge | None, seed: str, size: int = DEFAULT_SIZE
) -> bytes:
    """PNG bytes of a customer's avatar (uncached; `AvatarService.render` caches)."""
    return render_style(AvatarStyle.for_customer(name, badge=badge, seed=seed, size=size))


def render_style(style: AvatarStyle) -> bytes:
    """PNG bytes for `style`."""
    buffer = io.BytesIO()
    draw_style(style).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def draw_style(style: AvatarStyle) -> Image.Image:
    """The avatar for `style` as an RGBA image of `style.size` pixels square."""
    from PIL import Image, ImageDraw

    scale = 4 if style.size <= 512 else 2
    side = style.size * scale
    canvas = Image.new("RGBA", (side, side), (*hex_to_rgb(style.background), 255))
    draw = ImageDraw.Draw(canvas)
    font_path = None if style.mark == NEUTRAL_GLYPH else fonts.font_for(style.mark)
    if font_path is None:
        _draw_silhouette(draw, side, _tint(style.background, 0.88))
    else:
        _draw_initials(draw, side, style.mark, font_path)
    circle = Image.new("L", (side, side), 0)
    ImageDraw.Draw(circle).ellipse((0, 0, side - 1, side - 1), fill=255)
    canvas.putalpha(circle)
    if style.badge is not None:
        _place_badge(canvas, style.badge)
    return canvas.resize((style.size, style.size), Image.Resampling.LANCZOS)


def _draw_initials(draw: ImageDraw.ImageDraw, side: int, mark: str, font_path: Path) -> None:
    """White initials, centred; each letter drawn alone so Arabic initials never join."""
    letters = list(mark)
    if unicodedata.bidirectional(letters[0]) in {"R", "AL"}:
        letters.reverse()  # right-to-left scripts read their first initial on the right
    probe = fonts.load_font(font_path, 400)
    gap_ratio = 0.03
    boxes = [draw.textbbox((0, 0), letter, font=probe, anchor="ls") for letter in letters]
    cased = all(letter.lower() != letter.upper() for letter in letters)
    height = _ink_height(boxes, cased)
    width = sum(b[2] - b[0] for b in boxes) + 400 * gap_ratio * (len(boxes) - 1)
    font_size = 400 * min(side * _TEXT_HEIGHT / height, side * _TEXT_WIDTH / width)
    font = fonts.load_font(font_path, max(4, round(font_size)))
    boxes = [draw.textbbox((0, 0), letter, font=font, anchor="ls") for letter in letters]
    gap = font.size * gap_ratio
    total = sum(b[2] - b[0] for b in boxes) + gap * (len(boxes) - 1)
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes) if not cased else max(0, min(b[3] for b in boxes))
    baseline = side / 2 - (top + bottom) / 2
    x = side / 2 - total / 2
    for letter, box in zip(letters, boxes, strict=True):
        draw.text((x - box[0], baseline), letter, font=font, fill=_INK, anchor="ls")
        x += box[2] - box[0] + gap


def _ink_height(boxes: list[tuple[float, float, float, float]], cased: bool) -> float:
    """Height of the ink to centre; cased letters centre on their caps, ignoring descenders."""
    top = min(b[1] for b in boxes)
    bottom = max(b[3] for b in boxes)
    if cased:
        bottom = max(0, min(b[3] for b in boxes))
    return max(1.0, bottom - top)


def _draw_silhouette(draw: ImageDraw.ImageDraw, side: int, ink: tuple[int, int, int, int]) -> None:
    """A neutral person: a head and shoulders, cut by the circle later."""
    head = side * 0.155
    cx, cy = side / 2, side * 0.385
    draw.ellipse((cx - head, cy - head, cx + head, cy + head), fill=ink)
    body_w, body_top = side * 0.29, side * 0.60
    draw.ellipse((cx - body_w, body_top, cx + body_w, body_top + side * 0.6), fill=ink)


def _tint(background: str, whiteness: float) -> tuple[int, int, int, int]:
    """`background` mixed with white; `whiteness` 1 is pure white."""
    r, g, b = (round(c + (255 - c) * whiteness) for c in hex_to_rgb(background))
    return (r, g, b, 255)


def _place_badge(canvas: Image.Image, badge: Badge) -> None:
    """Cut a transparent ring in the bottom-right and put the platform badge inside it."""
    from PIL import Image, ImageChops

    side = canvas.width
    diameter = round(side * _BADGE_DIAMETER)
    ring = round(side * _BADGE_RING)
    corner = side - diameter  # badge box touches the right and bottom edges
    hole = shape_mask(diameter, badge.shape, grow=ring)
    alpha = canvas.getchannel("A")
    cut = Image.new("L", canvas.size, 0)
    cut.paste(hole, (corner - ring, corner - ring))
    canvas.putalpha(ImageChops.subtract(alpha, cut))
    canvas.alpha_composite(draw_badge(badge, diameter), (corner, corner))
