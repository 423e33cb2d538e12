"""AvatarService: renders once per style, then hands out the stored Telegram file_id."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from app.looks import platform_badges
from bridge.avatars import AvatarService, MemoryFileIds, render_avatar

BADGES = platform_badges()


def test_render_is_cached_per_style_and_matches_the_uncached_render() -> None:
    service = AvatarService(badges=BADGES)
    first = service.render("Иван Петров", channel="vk", seed="c1")
    second = service.render("Иван Петров", channel="vk", seed="c1")
    assert first is second
    assert first == render_avatar("Иван Петров", badge=BADGES.get("vk"), seed="c1")
    stats = service.cache_stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 1, 1)


def test_customers_sharing_initials_colour_and_badge_share_one_render() -> None:
    service = AvatarService()
    assert service.key_for("Ivan Petrov", channel="vk", seed="c1") == service.key_for(
        "Irina Pavlova", channel="vk", seed="c1"
    )
    service.render("Ivan Petrov", channel="vk", seed="c1")
    service.render("Irina Pavlova", channel="vk", seed="c1")
    assert service.cache_stats().misses == 1


def test_key_changes_with_badge_size_and_name() -> None:
    service = AvatarService()
    keys = {
        service.key_for("Anna Lee", channel="vk", seed="c1"),
        service.key_for("Anna Lee", channel="viber", seed="c1"),
        service.key_for("Anna Lee", channel="vk", seed="c1", size=128),
        service.key_for("Bob Ray", channel="vk", seed="c1"),
        service.key_for(None, channel="vk", seed="c1"),
    }
    assert len(keys) == 5


def test_least_recently_used_render_is_evicted_first() -> None:
    service = AvatarService(cache_size=2)
    service.render("Anna", channel="vk", seed="a", size=32)
    service.render("Bob", channel="vk", seed="b", size=32)
    service.render("Anna", channel="vk", seed="a", size=32)  # Anna is now the most recent
    service.render("Carl", channel="vk", seed="c", size=32)  # evicts Bob
    before = service.cache_stats().misses
    service.render("Anna", channel="vk", seed="a", size=32)
    assert service.cache_stats().misses == before
    service.render("Bob", channel="vk", seed="b", size=32)
    assert service.cache_stats().misses == before + 1
    assert service.cache_stats().size == 2


def test_cache_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="cache_size"):
        AvatarService(cache_size=0)


async def test_first_card_uploads_png_and_later_cards_reuse_the_file_id() -> None:
    store = MemoryFileIds()
    service = AvatarService(store)
    photo = await service.photo_for("Иван Петров", channel="telegram", seed="c1")
    assert photo.needs_upload and photo.file_id is None
    assert Image.open(io.BytesIO(photo.png or b"")).size == (256, 256)

    await service.remember_upload(photo.key, "AgACAgIAAxkBAAIB")
    again = await service.photo_for("Иван Петров", channel="telegram", seed="c1")
    assert not again.needs_upload
    assert (again.file_id, again.png) == ("AgACAgIAAxkBAAIB", None)
    assert store.file_ids == {photo.key: "AgACAgIAAxkBAAIB"}

    other = await service.photo_for("Иван Петров", channel="vk", seed="c1")
    assert other.needs_upload  # another badge is another picture


async def test_file_ids_outlive_the_render_cache() -> None:
    store = MemoryFileIds()
    first = AvatarService(store)
    photo = await first.photo_for(None, channel="site:shop", seed="guest-3")
    await first.remember_upload(photo.key, "FILE-1")
    restarted = AvatarService(store)  # a new process with the same database
    assert (await restarted.photo_for(None, channel="site", seed="guest-9")).file_id == "FILE-1"
    assert restarted.cache_stats().misses == 0


async def test_remember_upload_needs_key_and_file_id() -> None:
    with pytest.raises(ValueError, match="file_id"):
        await AvatarService().remember_upload("v1:256:vk:#DC2626:A", "")


async def test_avatars_are_drawn_on_one_thread_of_the_service() -> None:
    """Issue 16: every thread that draws keeps its own malloc arena of ~4 MB canvases, so a
    service draws on one thread of its own, however many cards need a photo at once."""
    import asyncio
    import threading

    service = AvatarService()
    drawers: set[str] = set()
    draw = service.render_style

    def watched(style):  # type: ignore[no-untyped-def]
        drawers.add(threading.current_thread().name)
        return draw(style)

    service.render_style = watched  # type: ignore[method-assign]
    photos = await asyncio.gather(
        *(
            service.photo_for(name, channel="vk", seed=f"c{n}", size=32)
            for n, name in enumerate(["Anna Lee", "Bob Ray", "Carl Oz", "Dana Wu", None])
        )
    )
    assert all(photo.png and photo.png.startswith(b"\x89PNG") for photo in photos)
    assert len(drawers) == 1 and next(iter(drawers)).startswith("avatars")
    assert service.cache_stats().capacity == 64
