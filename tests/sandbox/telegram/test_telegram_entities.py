"""HTML parse_mode: Telegram's tags become entities; anything else is refused with its wording."""

from __future__ import annotations

import pytest

from sandbox.telegram.entities import EntityParseError, parse_html


def test_supported_tags_become_entities_with_utf16_offsets() -> None:
    parsed = parse_html('😀 <b>bold</b> <a href="https://x.y">link</a> &lt;ok&gt;')

    assert parsed.text == "😀 bold link <ok>"
    assert parsed.entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 8, "length": 4, "type": "text_link", "url": "https://x.y"},
    ]


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_invalid_html_is_refused_with_telegrams_reason(source: str, reason: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value).startswith(reason)
