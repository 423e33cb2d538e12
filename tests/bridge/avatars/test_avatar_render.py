"""Rendering: a round anti-aliased PNG, stable colour, grey guests, badges, real glyphs."""

from __future__ import annotations

import io
from collections import Counter
from itertools import combinations

import pytest
from PIL import Image, ImageDraw

from app.looks import platform_badges
from bridge.avatars import (
    GUEST_GREY,
    PALETTE,
    AvatarStyle,
    Badge,
    Badges,
    BadgeShape,
    Frame,
    colour_for,
    fonts,
    render_avatar,
    render_style,
    unknown_badge,
)
from bridge.avatars.badges import UNKNOWN_COLOUR, WHITE
from bridge.avatars.palette import hex_to_rgb

#: The badges the root hands the core: every platform's look.
BADGES = platform_badges()
PLATFORMS = BADGES.platforms


def _avatar(name: str | None, *, channel: str, seed: str, size: int = 256) -> bytes:
    """The avatar of a customer writing from `channel` (aliases allowed), as the CLI draws it."""
    return render_avatar(name, badge=BADGES.for_channel(channel), seed=seed, size=size)


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def _rgb_at(image: Image.Image, x: int, y: int) -> tuple[int, int, int]:
    r, g, b, a = image.getpixel((x, y))
    assert a == 255, f"pixel {(x, y)} is not opaque"
    return (r, g, b)


def _pixels(image: Image.Image) -> list[tuple[int, ...]]:
    flat = getattr(image, "get_flattened_data", None) or image.getdata  # Pillow < 12.1
    return list(flat())


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return sum((p - q) ** 2 for p, q in zip(a, b, strict=True)) ** 0.5


def _badge_region(image: Image.Image) -> Image.Image:
    side = image.width
    return image.crop((round(side * 0.66), round(side * 0.66), side, side))


def test_avatar_is_a_256_px_rgba_png_transparent_outside_the_circle() -> None:
    image = _open(_avatar("Иван Петров", channel="telegram", seed="c1"))
    assert image.format == "PNG"
    assert image.size == (256, 256)
    assert image.mode == "RGBA"
    for corner in [(0, 0), (255, 0), (0, 255), (255, 255)]:
        assert image.getpixel(corner)[3] == 0, corner
    assert image.getpixel((128, 20))[3] == 255
    assert image.getpixel((20, 128))[3] == 255


def test_circle_edge_is_anti_aliased() -> None:
    image = _open(_avatar("Anna Lee", channel="vk", seed="c1"))
    alphas = [image.getpixel((x, y))[3] for x in range(256) for y in (40, 128, 200)]
    partial = [a for a in alphas if 0 < a < 255]
    assert len(partial) >= 6
    assert len({a // 32 for a in partial}) >= 3  # a ramp, not one stray value


@pytest.mark.parametrize("size", [16, 64, 512])
def test_size_parameter_sets_the_side(size: int) -> None:
    image = _open(_avatar("Anna", channel="site", seed="x", size=size))
    assert image.size == (size, size)
    assert image.getpixel((0, 0))[3] == 0


@pytest.mark.parametrize("size", [0, 15, 1025])
def test_size_outside_the_range_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="size"):
        _avatar("Anna", channel="site", seed="x", size=size)


def test_background_comes_from_the_customers_id() -> None:
    colour = colour_for("customer-7")
    image = _open(_avatar("Иван Петров", channel="vk", seed="customer-7"))
    assert _distance(_rgb_at(image, 128, 20), hex_to_rgb(colour)) < 3
    again = _avatar("Иван Петров", channel="vk", seed="customer-7")
    assert again == _avatar("Иван Петров", channel="vk", seed="customer-7")


def test_different_ids_get_different_backgrounds() -> None:
    seen = {
        _rgb_at(_open(_avatar("Anna", channel="vk", seed=f"id-{n}", size=64)), 32, 5)
        for n in range(40)
    }
    assert len(seen) >= 8


def test_guest_is_grey_with_a_light_silhouette() -> None:
    image = _open(_avatar(None, channel="telegram", seed="guest-1"))
    grey = hex_to_rgb(GUEST_GREY)
    assert _distance(_rgb_at(image, 128, 20), grey) < 3
    head = _rgb_at(image, 128, round(256 * 0.385))
    assert min(head) > 220  # near-white head in the middle
    assert all(_distance(_rgb_at(image, 128, 20), hex_to_rgb(c)) > 20 for c in PALETTE)


def test_blank_name_is_a_guest_too() -> None:
    assert _avatar("   ", channel="vk", seed="s") == _avatar(None, channel="vk", seed="s")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_badge_shows_its_platform_colour_in_the_corner(platform: str) -> None:
    image = _open(_avatar("Anna Lee", channel=platform, seed="same"))
    opaque = [p[:3] for p in _pixels(_badge_region(image)) if p[3] == 255]
    dominant, _count = Counter(opaque).most_common(1)[0]
    assert _distance(dominant, hex_to_rgb(BADGES.get(platform).colour)) < 3


def test_every_platform_badge_looks_different() -> None:
    regions = {
        p: _badge_region(_open(_avatar("Anna Lee", channel=p, seed="same"))) for p in PLATFORMS
    }
    for first, second in combinations(PLATFORMS, 2):
        a, b = _pixels(regions[first]), _pixels(regions[second])
        differing = sum(1 for p, q in zip(a, b, strict=True) if _distance(p, q) > 40)
        assert differing > 0.3 * len(a), (first, second)
    for first, second in combinations(PLATFORMS, 2):
        colours = hex_to_rgb(BADGES.get(first).colour), hex_to_rgb(BADGES.get(second).colour)
        assert _distance(*colours) > 60, (first, second)


def test_badge_is_separated_from_the_circle_by_a_transparent_ring() -> None:
    image = _open(_avatar("Anna Lee", channel="viber", seed="s"))
    # On the diagonal, between the circle's inside and the badge there is a see-through gap.
    diagonal = [image.getpixel((i, i))[3] for i in range(150, 200)]
    assert 255 in diagonal and min(diagonal) == 0


@pytest.mark.parametrize(
    ("channel", "platform"),
    [("vk", "vk"), ("site:shop", "site"), ("TG", "telegram"), ("facebook", "facebook")],
)
def test_channel_names_map_to_badges(channel: str, platform: str) -> None:
    assert BADGES.platform_for(channel) == platform


@pytest.mark.parametrize("channel", ["icq", "", ":shop"])
def test_unknown_channel_is_refused_with_the_known_platforms(channel: str) -> None:
    with pytest.raises(ValueError, match="telegram, vk, viber, facebook, site"):
        _avatar("Anna", channel=channel, seed="s")


def test_cyrillic_letters_are_real_glyphs_not_the_missing_glyph_box() -> None:
    font = fonts.primary_font_path()
    notdef = fonts.glyph_mask(font, fonts.NOT_A_CHARACTER)
    masks = {char: fonts.glyph_mask(font, char) for char in "ИПAW"}
    for char, mask in masks.items():
        assert mask != notdef, char
        assert fonts.covers(font, char)
    assert masks["И"] != masks["П"]
    assert not fonts.covers(font, "\ue000")


def test_initials_render_as_their_letters_in_the_avatar() -> None:
    # If the glyphs were missing-glyph boxes, swapping the letters would change nothing.
    def draw(mark: str) -> bytes:
        return render_style(AvatarStyle(mark, PALETTE[0], BADGES.get("vk")))

    assert len({draw("ИП"), draw("ПИ"), draw("AW"), draw("WA")}) == 4
    silhouette = _open(draw("•"))
    initials = _open(draw("ИП"))
    assert silhouette.getpixel((128, round(256 * 0.385))) != initials.getpixel(
        (128, round(256 * 0.385))
    )


def test_letters_no_font_can_draw_fall_back_to_the_silhouette() -> None:
    def centre_column(png: bytes) -> list[tuple[int, ...]]:
        image = _open(png)
        return [image.getpixel((128, y)) for y in range(30, 180, 10)]

    silhouette = centre_column(render_style(AvatarStyle("•", PALETTE[3], BADGES.get("site"))))
    assert (
        centre_column(render_style(AvatarStyle("\ue000", PALETTE[3], BADGES.get("site"))))
        == silhouette
    )


def test_style_key_names_everything_that_changes_the_pixels() -> None:
    style = AvatarStyle.for_customer(
        "Иван Петров", badge=BADGES.for_channel("site:shop"), seed="c9", size=128
    )
    assert style.key == f"v1:128:site:{colour_for('c9')}:ИП"
    guest = AvatarStyle.for_customer(None, badge=BADGES.get("vk"), seed="c9")
    assert guest.key == f"v1:256:vk:{GUEST_GREY}:•"


def _toy_mark(draw: ImageDraw.ImageDraw, frame: Frame) -> None:
    draw.ellipse(frame.box(0, 0, 0.3), fill=WHITE)


def test_the_core_draws_any_badge_it_is_handed() -> None:
    toy = Badge("toy", "#B45309", BadgeShape.ROUNDED, _toy_mark)
    image = _open(render_avatar("Anna Lee", badge=toy, seed="same"))
    opaque = [p[:3] for p in _pixels(_badge_region(image)) if p[3] == 255]
    assert _distance(Counter(opaque).most_common(1)[0][0], hex_to_rgb(toy.colour)) < 3
    assert AvatarStyle.for_customer("Anna Lee", badge=toy, seed="s").key.startswith("v1:256:toy:")
    assert _rgb_at(_badge_region(image), 43, 43) == WHITE[:3]  # the toy's mark


def test_a_platform_without_a_badge_gets_a_slate_disc_with_its_letter() -> None:
    badges = Badges([BADGES.get("vk")], {"vkontakte": "vk"})
    assert badges.of_customer("vkontakte") == BADGES.get("vk")
    toy = badges.of_customer("toy:shop")
    assert toy == unknown_badge("toy") and toy.name == "toy"
    image = _open(render_avatar("Anna Lee", badge=toy, seed="same"))
    opaque = [p[:3] for p in _pixels(_badge_region(image)) if p[3] == 255]
    assert _distance(Counter(opaque).most_common(1)[0][0], hex_to_rgb(UNKNOWN_COLOUR)) < 3
    assert render_avatar("Anna Lee", badge=unknown_badge("xmpp"), seed="same") != render_avatar(
        "Anna Lee", badge=toy, seed="same"
    )  # each shows its own letter


def test_aliases_must_name_a_platform_with_a_badge() -> None:
    with pytest.raises(ValueError, match="aliases"):
        Badges([BADGES.get("vk")], {"tg": "telegram"})


def test_pillow_is_loaded_by_the_first_drawing_not_by_describing_badges() -> None:
    """Issue 16: a service that draws no avatar (restarted with every card queued) never pays
    for Pillow; the first avatar it draws loads it."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import app.service, app.wiring, desk.runtime\n"
        "from app.looks import platform_badges\n"
        "from bridge.avatars import AvatarService\n"
        "service = AvatarService(badges=platform_badges())\n"
        "print('PIL' in sys.modules)\n"
        "png = service.render('Ann Lee', channel='vk', seed='customer:1')\n"
        "print('PIL' in sys.modules, png[:8] == b'\\x89PNG\\r\\n\\x1a\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True", "True"]
