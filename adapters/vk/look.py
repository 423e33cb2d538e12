"""How VK shows to operators and on avatars: its names, badge and text limit."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.avatars.badges import Badge, BadgeShape, Frame, centred_text

if TYPE_CHECKING:
    from PIL import ImageDraw

#: VK's name to operators, by language.
DISPLAY_NAMES: dict[str, str] = {"en": "VK", "ru": "ВКонтакте"}
#: Other names `talker-bridge avatar --channel` accepts for VK.
ALIASES: tuple[str, ...] = ("vkontakte",)
#: The longest text of one message (messages.send `message`; sender.MAX_TEXT).
MAX_TEXT: int | None = 9000


def draw_mark(draw: ImageDraw.ImageDraw, f: Frame) -> None:
    """A white "VK"."""
    centred_text(draw, f, "VK", height=0.62, width=1.25)


#: VK blue rounded square (the shape of VK's logo), white "VK".
BADGE = Badge("vk", "#0077FF", BadgeShape.ROUNDED, draw_mark)
