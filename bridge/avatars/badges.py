"""Platform badges: a small disc in the avatar's corner that tells where the customer wrote from.

The core knows no platform: each platform describes its badge as a `Badge` (colour, outline
shape, and a function drawing its white mark in a `Frame`; `adapters/<platform>/look.py`), and
the composition root hands the core a `Badges` registry of them. The core draws the disc and
cuts it to shape; a platform without a badge of its own gets `unknown_badge` (a slate disc
with the platform's first letter).

Badges are drawn on their own transparent layer at the renderer's supersampled resolution; the
renderer cuts a transparent ring around them so they read on any chat background.

Pillow is imported by the functions that draw, not by this module: describing badges (every
platform's look, at start-up) costs no memory until an avatar is drawn (issue 16).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING

from bridge.avatars import fonts

if TYPE_CHECKING:
    from PIL import Image, ImageDraw

#: The colour of a badge's mark.
WHITE = (255, 255, 255, 255)
#: The disc of a platform that has no badge of its own.
UNKNOWN_COLOUR = "#64748B"
_ROUNDED_RADIUS = 0.42  # corner radius of the rounded square, as a share of the side


class BadgeShape(StrEnum):
    """The outline of a badge."""

    CIRCLE = "circle"
    ROUNDED = "rounded"  # a rounded square


class Frame:
    """Maps unit coordinates (-1..1 across the badge, y down) to pixels."""

    def __init__(self, diameter: int) -> None:
        self.half = diameter / 2

    def xy(self, x: float, y: float) -> tuple[float, float]:
        return (self.half * (1 + x), self.half * (1 + y))

    def box(self, cx: float, cy: float, rx: float, ry: float | None = None) -> list[float]:
        ry = rx if ry is None else ry
        return [*self.xy(cx - rx, cy - ry), *self.xy(cx + rx, cy + ry)]

    def length(self, units: float) -> int:
        return max(1, round(self.half * units))


#: Draws a badge's mark on the badge's layer (filled with the badge colour) in a `Frame`.
DrawMark = Callable[["ImageDraw.ImageDraw", Frame], None]


@dataclass(frozen=True, slots=True)
class Badge:
    """How a platform's badge looks.

    `name` is the platform's name: avatars are cached and their uploads stored under it, so
    it must not change for a platform. `colour` fills the disc, `shape` cuts it, `mark` draws
    the white sign on it (None: a plain disc).
    """

    name: str
    colour: str
    shape: BadgeShape = BadgeShape.CIRCLE
    mark: DrawMark | None = None


class Badges:
    """The badges of the platforms a service knows, looked up by channel name.

    `badges`: platform name -> its badge, in the order to list them; `aliases`: other names a
    user may type for a platform ("tg" -> "telegram").
    """

    def __init__(self, badges: Iterable[Badge], aliases: Mapping[str, str] | None = None) -> None:
        self._badges: Mapping[str, Badge] = MappingProxyType({b.name: b for b in badges})
        self._aliases: Mapping[str, str] = MappingProxyType(dict(aliases or {}))
        unknown = set(self._aliases.values()) - set(self._badges)
        if unknown:
            raise ValueError(f"aliases name platforms without a badge: {sorted(unknown)}")

    @property
    def platforms(self) -> tuple[str, ...]:
        """The platform names, in the order they were given."""
        return tuple(self._badges)

    def get(self, platform: str) -> Badge:
        """The badge of `platform`; `unknown_badge(platform)` when it has none."""
        return self._badges.get(platform) or unknown_badge(platform)

    def platform_for(self, channel: str) -> str:
        """The platform of a channel: "vk" -> "vk", "site:shop" -> "site", "TG" -> "telegram".

        Raises ValueError naming the known platforms for anything else.
        """
        known = ", ".join(self._badges)
        if not isinstance(channel, str) or not channel.strip():
            raise ValueError(f"channel must name a platform ({known}), got {channel!r}")
        head = channel.strip().split(":", 1)[0].strip().lower()
        platform = self._aliases.get(head, head)
        if platform not in self._badges:
            raise ValueError(f"unknown channel {channel!r}: the badge platforms are {known}")
        return platform

    def for_channel(self, channel: str) -> Badge:
        """The badge of a channel (aliases allowed); ValueError for an unknown platform."""
        return self._badges[self.platform_for(channel)]

    def of_customer(self, channel: str) -> Badge:
        """The badge of a stored customer's channel: never fails (`unknown_badge` instead)."""
        try:
            return self.for_channel(channel)
        except ValueError:
            family = str(channel).split(":", 1)[0].strip().lower() or "?"
            return unknown_badge(family)


def unknown_badge(platform: str) -> Badge:
    """A slate disc with the platform's first letter: a platform without a badge of its own."""
    letter = (platform.strip()[:1] or "?").upper()
    return Badge(platform, UNKNOWN_COLOUR, BadgeShape.CIRCLE, _Letter(letter))


@dataclass(frozen=True, slots=True)
class _Letter:
    """A white letter in the middle of the badge (equal letters are equal marks)."""

    letter: str

    def __call__(self, draw: ImageDraw.ImageDraw, frame: Frame) -> None:
        centred_text(draw, frame, self.letter, height=0.62, width=1.1)


def shape_mask(diameter: int, shape: BadgeShape, grow: int = 0) -> Image.Image:
    """An 'L' mask of `diameter` + 2*`grow` pixels holding the badge outline (grown by `grow`)."""
    from PIL import Image, ImageDraw

    side = diameter + 2 * grow
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    box = (0, 0, side - 1, side - 1)
    if shape == BadgeShape.ROUNDED:
        draw.rounded_rectangle(box, radius=round(diameter * _ROUNDED_RADIUS + grow), fill=255)
    else:
        draw.ellipse(box, fill=255)
    return mask


def draw_badge(badge: Badge, diameter: int) -> Image.Image:
    """`badge` as a `diameter`-pixel RGBA image, transparent outside its shape."""
    from PIL import Image, ImageChops, ImageDraw

    layer = Image.new("RGBA", (diameter, diameter), badge.colour)
    if badge.mark is not None:
        badge.mark(ImageDraw.Draw(layer), Frame(diameter))
    outline = shape_mask(diameter, badge.shape)
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), outline))
    return layer


def centred_text(
    draw: ImageDraw.ImageDraw, f: Frame, text: str, *, height: float, width: float
) -> None:
    """Draw `text` in white, ink-centred, at most `height` tall and `width` wide (unit lengths)."""
    path = fonts.primary_font_path()
    probe = fonts.load_font(path, 200)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=probe, anchor="ls")
    scale = min(f.half * height / (bottom - top), f.half * width / (right - left))
    font = fonts.load_font(path, max(6, round(200 * scale)))
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font, anchor="ls")
    x = f.half - (left + right) / 2
    y = f.half - (top + bottom) / 2
    draw.text((x, y), text, font=font, fill=WHITE, anchor="ls")


#: A registry of no platform: every channel is unknown.
NO_BADGES = Badges(())
