"""Texts exist in both languages; cards and copies escape everything a customer wrote."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.looks import platform_names
from bridge.core.cards import (
    CAPTION_LIMIT,
    CardView,
    customer_copy,
    escape,
    escaped_shortened,
    group_link,
    message_summary,
    pieces,
    render_card,
    tg_length,
    topic_name,
)
from bridge.core.platform_names import NO_NAMES, PlatformNames
from bridge.core.texts import PLAIN_KEYS, all_keys, normalize_language, text

OPENED = datetime(2026, 11, 25, 14, 2, tzinfo=UTC)
TAG = re.compile(r"</?([a-zA-Z]+)[^>]*>")
ALLOWED_TAGS = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "tg-spoiler"}


def visible(html_text: str) -> str:
    """What Telegram shows for our HTML: tags removed, the three entities decoded."""
    stripped = TAG.sub("", html_text)
    return stripped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def test_every_text_exists_in_russian_and_english() -> None:
    keys = all_keys()
    assert keys["ru"] == keys["en"]


@pytest.mark.parametrize("key", sorted(PLAIN_KEYS))
def test_plain_texts_carry_no_markup(key: str) -> None:
    for language in ("ru", "en"):
        rendered = text(
            language,
            key,
            operator="Ann",
            number=3,
            name="X",
            source="VK",
            text="t",
            opens="Mon 09:00",
            stars="★★★★☆",
        )
        assert "<" not in rendered


def test_texts_follow_the_language_setting() -> None:
    assert text("ru", "button.accept") == "Принять"
    assert text("en", "button.accept") == "Accept"
    assert normalize_language("ru-RU") == "ru"
    assert normalize_language("de") == "en"


def test_channels_are_named_through_the_platforms_names() -> None:
    names = platform_names()
    assert names.source("ru", "site:shop") == "Сайт (shop)"
    assert names.source("en", "vk") == "VK" and names.source("ru-RU", "vk") == "ВКонтакте"
    assert names.source("de", "vk") == "VK"  # other languages read English
    toy = PlatformNames({"toy": {"en": "Toy Chat"}})
    assert (toy.source("ru", "toy:a"), toy.source("en", "icq")) == ("Toy Chat (a)", "icq")
    assert NO_NAMES.source("en", "site:shop") == "site (shop)"


def test_card_shows_a_tag_in_the_name_literally() -> None:
    view = CardView(
        number=123,
        name="<b>x</b></a>",
        source="Telegram",
        opened_at=OPENED,
        messages=["hi <i>there</i> & </a>"],
    )
    caption = render_card(view, "en")
    assert "&lt;b&gt;x&lt;/b&gt;&lt;/a&gt;" in caption
    assert "hi &lt;i&gt;there&lt;/i&gt; &amp; &lt;/a&gt;" in caption
    assert {tag for tag in TAG.findall(caption)} <= ALLOWED_TAGS
    assert visible(caption).startswith("🆕 <b>x</b></a> · Telegram")
    assert "#123" in caption and "2026-11-25 14:02 UTC" in caption


def test_card_shortens_a_long_first_message_to_fit_a_caption() -> None:
    view = CardView(number=1, name="Ann", source="VK", opened_at=OPENED, messages=["<" * 5000])
    caption = render_card(view, "ru")
    assert tg_length(caption) <= CAPTION_LIMIT
    assert caption.endswith("…")
    assert not re.search(r"&[a-z]*…", caption), "never cut inside an entity"


def test_card_folds_later_messages_and_counts_what_does_not_fit() -> None:
    messages = ["first"] + [f"message {i} " + "x" * 80 for i in range(30)]
    view = CardView(number=7, name="Ann", source="Viber", opened_at=OPENED, messages=messages)
    caption = render_card(view, "en")
    assert tg_length(caption) <= CAPTION_LIMIT
    assert "first" in caption and "message 0 " in caption
    shown = sum(1 for i in range(30) if f"message {i} " in caption)
    assert f"…and {30 - shown} more" in caption


def test_accepted_card_names_the_operator_escaped() -> None:
    view = CardView(
        number=5,
        name="Ann",
        source="Telegram",
        opened_at=OPENED,
        messages=["hi"],
        state="accepted",
        operator_name="<Bob>",
    )
    assert "Accepted by &lt;Bob&gt;" in render_card(view, "en")
    assert "Принял(а): &lt;Bob&gt;" in render_card(view, "ru")


@given(st.text(max_size=3000), st.text(max_size=300))
def test_any_customer_text_fits_and_shows_literally(body: str, name: str) -> None:
    view = CardView(number=1, name=name, source="Telegram", opened_at=OPENED, messages=[body])
    caption = render_card(view, "en")
    assert tg_length(caption) <= CAPTION_LIMIT
    assert {tag for tag in TAG.findall(caption)} <= ALLOWED_TAGS
    shown = visible(caption.split("\n\n", 1)[1]) if "\n\n" in caption else ""
    if body.strip():
        assert body.startswith(shown.rstrip("…").rstrip()) or shown.rstrip("…") in body


def test_topic_name_fits_128_and_names_the_source() -> None:
    assert topic_name("Иван Петров", "ВКонтакте", "ru") == "Иван Петров · ВКонтакте"
    long_name = topic_name("N" * 500, "Telegram", "en")
    assert tg_length(long_name) <= 128 and long_name.endswith("· Telegram")


def test_customer_copy_escapes_and_prefixes_the_author_in_replies_mode() -> None:
    copy = customer_copy("2 < 3", author="<b>Eve</b>", language="en")
    assert copy == "<b>&lt;b&gt;Eve&lt;/b&gt;</b>:\n2 &lt; 3"
    assert tg_length(customer_copy("&" * 5000)) <= 4096


def test_long_text_is_split_into_pieces_that_each_fit() -> None:
    body = "<&>" * 3000
    parts = pieces(body)
    assert "".join(parts) == body
    assert all(tg_length(escape(p)) <= 4096 for p in parts)


def test_summary_and_links() -> None:
    assert message_summary("look", ["photo"], "en") == "[photo] look"
    assert message_summary("", ["voice"], "ru") == "[голосовое сообщение]"
    assert group_link(-1001234567890, thread_id=55) == "https://t.me/c/1234567890/55"
    assert group_link(-1001234567890, message_id=9) == "https://t.me/c/1234567890/9"
    assert escaped_shortened("a&b", 3) == "a…"
