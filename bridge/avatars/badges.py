"""Platform badges: a small disc in the avatar's corner that tells where the customer wrote from.

One distinct colour and one mark per platform, drawn with Pillow shapes (no downloaded logos):
- telegram: sky blue disc, white paper plane;
- vk: VK blue rounded square (the shape of VK's logo), white "VK";
- viber: Viber purple disc, white handset with vibration waves;
- facebook: Facebook blue disc, white "f" running off the bottom edge, as in Facebook's logo;
- site: green disc, white globe (the company's own site chat widget).

Badges are drawn on their own transparent layer at the renderer's supersampled resolution; the
renderer cuts a transparent ring around them so they read on any chat background.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw

from bridge.avatars import fonts

PLATFORMS: tuple[str, ...] = ("telegram", "vk", "viber", "facebook", "site")
"""Every platform a customer can write from, in the order the README lists them."""

CHANNEL_ALIASES = {
    "tg": "telegram",
    "vkontakte": "vk",
    "fb": "facebook",
    "messenger": "facebook",
    "widget": "site",
    "web": "site",
}


@dataclass(frozen=True)
class BadgeLook:
    """How a platform's badge looks: background colour and outline shape."""

    colour: str
    shape: str  # "circle" or "rounded" (a rounded square)


BADGE_LOOKS: dict[str, BadgeLook] = {
    "telegram": BadgeLook("#29A9EB", "circle"),
    "vk": BadgeLook("#0077FF", "rounded"),
    "viber": BadgeLook("#7360F2", "circle"),
    "facebook": BadgeLook("#1B4FB8", "circle"),
    "site": BadgeLook("#16A34A", "circle"),
}

_WHITE = (255, 255, 255, 255)
_ROUNDED_RADIUS = 0.42  # corner radius of the rounded square, as a share of the side


def platform_for_channel(channel: str) -> str:
    """The badge platform of a channel: "vk" -> "vk", "site:shop" -> "site", "TG" -> "telegram".

    Raises ValueError naming the known platforms for anything else.
    """
    known = ", ".join(PLATFORMS)
    if not isinstance(channel, str) or not channel.strip():
        raise ValueError(f"channel must name a platform ({known}), got {channel!r}")
    head = channel.strip().split(":", 1)[0].strip().lower()
    platform = CHANNEL_ALIASES.get(head, head)
    if platform not in BADGE_LOOKS:
        raise ValueError(f"unknown channel {channel!r}: the badge platforms are {known}")
    return platform


def shape_mask(diameter: int, shape: str, grow: int = 0) -> Image.Image:
    """An 'L' mask of `diameter` + 2*`grow` pixels holding the badge outline (grown by `grow`)."""
    side = diameter + 2 * grow
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    box = (0, 0, side - 1, side - 1)
    if shape == "rounded":
        draw.rounded_rectangle(box, radius=round(diameter * _ROUNDED_RADIUS + grow), fill=255)
    else:
        draw.ellipse(box, fill=255)
    return mask


def draw_badge(platform: str, diameter: int) -> Image.Image:
    """The badge of `platform` as a `diameter`-pixel RGBA image, transparent outside its shape."""
    look = BADGE_LOOKS[platform]
    layer = Image.new("RGBA", (diameter, diameter), look.colour)
    _MARKS[platform](ImageDraw.Draw(layer), _Frame(diameter))
    outline = shape_mask(diameter, look.shape)
    layer.putalpha(ImageChops.multiply(layer.getchannel("A"), outline))
    return layer


class _Frame:
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


def _telegram(draw: ImageDraw.ImageDraw, f: _Frame) -> None:
    # The paper plane of Telegram's logo, traced from its 240-unit drawing and rescaled.
    plane = [
        (-0.167, 0.203),
        (0.237, 0.501),
        (0.328, 0.458),
        (0.492, -0.315),
        (0.422, -0.393),
        (-0.542, -0.021),
        (-0.553, 0.058),
        (-0.306, 0.136),
        (0.267, -0.225),
        (0.298, -0.214),
    ]
    fold = [(-0.306, 0.136), (-0.183, 0.458), (-0.02, 0.30), (-0.167, 0.203)]
    shift = (-0.04, 0.0)
    draw.polygon([f.xy(x + shift[0], y + shift[1]) for x, y in plane], fill=_WHITE)
    draw.polygon([f.xy(x + shift[0], y + shift[1]) for x, y in fold], fill=(200, 218, 234, 255))


def _vk(draw: ImageDraw.ImageDraw, f: _Frame) -> None:
    _centred_text(draw, f, "VK", height=0.62, width=1.25)


def _viber(draw: ImageDraw.ImageDraw, f: _Frame) -> None:
    # A telephone handset: a thick arc (the handle) ending in two pads, plus three waves.
    handle = f.length(0.2)
    draw.arc(f.box(0.22, -0.22, 0.58), start=100, end=170, fill=_WHITE, width=handle)
    for cx, cy in ((-0.34, -0.18), (0.18, 0.34)):
        draw.ellipse(f.box(cx, cy, 0.17), fill=_WHITE)
    wave = f.length(0.085)
    for radius in (0.18, 0.33, 0.48):
        draw.arc(f.box(-0.08, 0.08, radius), start=280, end=350, fill=_WHITE, width=wave)


def _facebook(draw: ImageDraw.ImageDraw, f: _Frame) -> None:
    # The "f" sits right of centre and runs off the bottom edge of the disc.
    font = fonts.load_font(fonts.primary_font_path(), max(8, round(f.half * 2.2)))
    left, top, right, _bottom = draw.textbbox((0, 0), "f", font=font, anchor="ls")
    x = f.xy(0.12, 0)[0] - (left + right) / 2
    y = f.xy(0, -0.62)[1] - top
    draw.text((x, y), "f", font=font, fill=_WHITE, anchor="ls")


def _site(draw: ImageDraw.ImageDraw, f: _Frame) -> None:
    # A globe: the outline, the equator, two parallels and a meridian ellipse.
    stroke = f.length(0.09)
    radius = 0.56
    draw.ellipse(f.box(0, 0, radius), outline=_WHITE, width=stroke)
    draw.ellipse(f.box(0, 0, radius * 0.45, radius), outline=_WHITE, width=stroke)
    draw.line([f.xy(-radius, 0), f.xy(radius, 0)], fill=_WHITE, width=stroke)
    for y in (-0.3, 0.3):
        half = (radius**2 - y**2) ** 0.5 * 0.92
        draw.line([f.xy(-half, y), f.xy(half, y)], fill=_WHITE, width=max(1, stroke * 3 // 4))


def _centred_text(
    draw: ImageDraw.ImageDraw, f: _Frame, text: str, *, height: float, width: float
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
    draw.text((x, y), text, font=font, fill=_WHITE, anchor="ls")


_MARKS: dict[str, Callable[[ImageDraw.ImageDraw, _Frame], None]] = {
    "telegram": _telegram,
    "vk": _vk,
    "viber": _viber,
    "facebook": _facebook,
    "site": _site,
}
