"""How Viber shows to operators and on avatars: its names, badge and text limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.avatars.badges import WHITE, Badge, BadgeShape, Frame

if TYPE_CHECKING:
    from PIL import ImageDraw

#: Viber's name to operators, by language.
DISPLAY_NAMES: dict[str, str] = {"en": "Viber", "ru": "Viber"}
#: Other names `talker-bridge avatar --channel` accepts for Viber.
ALIASES: tuple[str, ...] = ()
#: The longest text of one message (sender.MAX_TEXT).
MAX_TEXT: int | None = 7000


def draw_mark(draw: ImageDraw.ImageDraw, f: Frame) -> None:
    """A telephone handset: a thick arc (the handle) ending in two pads, plus three waves."""
    handle = f.length(0.2)
    draw.arc(f.box(0.22, -0.22, 0.58), start=100, end=170, fill=WHITE, width=handle)
    for cx, cy in ((-0.34, -0.18), (0.18, 0.34)):
        draw.ellipse(f.box(cx, cy, 0.17), fill=WHITE)
    wave = f.length(0.085)
    for radius in (0.18, 0.33, 0.48):
        draw.arc(f.box(-0.08, 0.08, radius), start=280, end=350, fill=WHITE, width=wave)


#: Viber purple disc, white handset with vibration waves.
BADGE = Badge("viber", "#7360F2", BadgeShape.CIRCLE, draw_mark)
