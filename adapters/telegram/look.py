"""How Telegram shows to operators and on avatars: its names, badge and text limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botapi.pacing import MAX_TEXT as BOT_API_MAX_TEXT
from bridge.avatars.badges import WHITE, Badge, BadgeShape, Frame

if TYPE_CHECKING:
    from PIL import ImageDraw

#: Telegram's name to operators, by language.
DISPLAY_NAMES: dict[str, str] = {"en": "Telegram", "ru": "Telegram"}
#: Other names `talker-bridge avatar --channel` accepts for Telegram.
ALIASES: tuple[str, ...] = ("tg",)
#: The longest text of one message.
MAX_TEXT: int | None = BOT_API_MAX_TEXT

# The paper plane of Telegram's logo, traced from its 240-unit drawing and rescaled.
_PLANE = (
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
)
_FOLD = ((-0.306, 0.136), (-0.183, 0.458), (-0.02, 0.30), (-0.167, 0.203))
_SHIFT = (-0.04, 0.0)


def draw_mark(draw: ImageDraw.ImageDraw, f: Frame) -> None:
    """A white paper plane with its shaded fold."""
    dx, dy = _SHIFT
    draw.polygon([f.xy(x + dx, y + dy) for x, y in _PLANE], fill=WHITE)
    draw.polygon([f.xy(x + dx, y + dy) for x, y in _FOLD], fill=(200, 218, 234, 255))


#: Sky blue disc, white paper plane.
BADGE = Badge("telegram", "#29A9EB", BadgeShape.CIRCLE, draw_mark)
