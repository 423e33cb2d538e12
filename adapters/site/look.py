"""How the site widget shows to operators and on avatars: its names, badge and text limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.avatars.badges import WHITE, Badge, BadgeShape, Frame

if TYPE_CHECKING:
    from PIL import ImageDraw

#: The widget's name to operators, by language ("Site (shop)" for the widget "shop").
DISPLAY_NAMES: dict[str, str] = {"en": "Site", "ru": "Сайт"}
#: Other names `talker-bridge avatar --channel` accepts for the site widget.
ALIASES: tuple[str, ...] = ("widget", "web")
#: Our own widget has no text limit of its own.
MAX_TEXT: int | None = None


def draw_mark(draw: ImageDraw.ImageDraw, f: Frame) -> None:
    """A globe: the outline, the equator, two parallels and a meridian ellipse."""
    stroke = f.length(0.09)
    radius = 0.56
    draw.ellipse(f.box(0, 0, radius), outline=WHITE, width=stroke)
    draw.ellipse(f.box(0, 0, radius * 0.45, radius), outline=WHITE, width=stroke)
    draw.line([f.xy(-radius, 0), f.xy(radius, 0)], fill=WHITE, width=stroke)
    for y in (-0.3, 0.3):
        half = (radius**2 - y**2) ** 0.5 * 0.92
        draw.line([f.xy(-half, y), f.xy(half, y)], fill=WHITE, width=max(1, stroke * 3 // 4))


#: Green disc, white globe (the company's own site chat widget).
BADGE = Badge("site", "#16A34A", BadgeShape.CIRCLE, draw_mark)
