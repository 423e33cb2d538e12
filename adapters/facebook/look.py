"""How Facebook shows to operators and on avatars: its names, badge and text limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.avatars import fonts
from bridge.avatars.badges import WHITE, Badge, BadgeShape, Frame

if TYPE_CHECKING:
    from PIL import ImageDraw

#: Facebook's name to operators, by language.
DISPLAY_NAMES: dict[str, str] = {"en": "Facebook", "ru": "Facebook"}
#: Other names `talker-bridge avatar --channel` accepts for Facebook.
ALIASES: tuple[str, ...] = ("fb", "messenger")
#: The longest text of one message (sender.MAX_TEXT).
MAX_TEXT: int | None = 2000


def draw_mark(draw: ImageDraw.ImageDraw, f: Frame) -> None:
    """A white "f" right of centre, running off the bottom edge as in Facebook's logo."""
    font = fonts.load_font(fonts.primary_font_path(), max(8, round(f.half * 2.2)))
    left, top, right, _bottom = draw.textbbox((0, 0), "f", font=font, anchor="ls")
    x = f.xy(0.12, 0)[0] - (left + right) / 2
    y = f.xy(0, -0.62)[1] - top
    draw.text((x, y), "f", font=font, fill=WHITE, anchor="ls")


#: Facebook blue disc, white "f".
BADGE = Badge("facebook", "#1B4FB8", BadgeShape.CIRCLE, draw_mark)
