"""Customer avatars: round PNGs with initials (or a silhouette for guests) and a platform badge.

    from bridge.avatars import render_avatar
    png = render_avatar("Иван Петров", badge=badges.for_channel("vk"), seed="customer-42")

`badges` is the `Badges` registry the composition root builds from the platforms' looks
(256x256 RGBA PNG by default). `AvatarService` adds an in-memory cache of rendered PNGs and
reuse of Telegram file_ids.
"""

from __future__ import annotations

from bridge.avatars.badges import Badge, Badges, BadgeShape, Frame, unknown_badge
from bridge.avatars.cache import AvatarFileIds, AvatarPhoto, AvatarService, MemoryFileIds
from bridge.avatars.initials import NEUTRAL_GLYPH, initials
from bridge.avatars.names import display_name
from bridge.avatars.palette import GUEST_GREY, PALETTE, colour_for
from bridge.avatars.render import AvatarStyle, render_avatar, render_style

__all__ = [
    "GUEST_GREY",
    "NEUTRAL_GLYPH",
    "PALETTE",
    "AvatarFileIds",
    "AvatarPhoto",
    "AvatarService",
    "AvatarStyle",
    "Badge",
    "BadgeShape",
    "Badges",
    "Frame",
    "MemoryFileIds",
    "colour_for",
    "display_name",
    "initials",
    "render_avatar",
    "render_style",
    "unknown_badge",
]
