"""`parse_mode` handling: turn formatted text into plain text + MessageEntity dicts.

HTML follows Telegram's "Formatting options": only the documented tags, balanced, with `&lt;`,
`&gt;`, `&amp;`, `&quot;` and numeric character references. Errors carry Telegram's wording
("Unsupported start tag ...", "Can't find end tag corresponding to start tag ...").
MarkdownV2 and Markdown are accepted without entity extraction: backslash escapes are removed
so lengths are counted on the visible text, nothing more (a known simplification).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_SUPPORTED = {*_SIMPLE_TAGS, "a", "span", "tg-emoji"}
_ATTR = re.compile(r"""([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")


class EntityParseError(ValueError):
    """Unparseable text; str(error) is Telegram's reason after "can't parse entities: "."""


@dataclass(slots=True)
class ParsedText:
    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Open:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of MessageEntity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse(text: str, parse_mode: str | None) -> ParsedText:
    """Parse `text` per `parse_mode` (None = plain). Raises EntityParseError."""
    if parse_mode is None or parse_mode == "":
        return ParsedText(text)
    if parse_mode == "HTML":
        return parse_html(text)
    if parse_mode in ("MarkdownV2", "Markdown"):
        return ParsedText(re.sub(r"\\(.)", r"\1", text))
    raise EntityParseError(f"unsupported parse_mode {parse_mode!r}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entity(match: re.Match[str]) -> str:
    body = match.group(1)
    if body.startswith("#x"):
        return chr(int(body[2:], 16))
    if body.startswith("#"):
        return chr(int(body[1:]))
    return html.unescape(f"&{body};")


def _entity_for(tag: _Open, length: int) -> dict[str, Any] | None:
    entity: dict[str, Any] = {"offset": tag.start, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        if not href:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity.update(type="text_mention", user={"id": int(user.group(1))})
            entity["user"].update(is_bot=False, first_name="")
        else:
            entity.update(type="text_link", url=href)
        return entity
    if tag.name == "span":
        entity["type"] = "spoiler"
    elif tag.name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs.get("emoji-id", ""))
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    else:
        entity["type"] = _SIMPLE_TAGS[tag.name]
    return entity


def _open_tag(source: str, pos: int, inner: str) -> _Open:
    name_match = _NAME.match(inner)
    name = name_match.group(0).lower() if name_match else ""
    if name not in _SUPPORTED:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, pos)}'
        )
    rest = inner[len(name) :].rstrip("/")
    attrs = {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTR.finditer(rest)
    }
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, pos)}'
        )
    return _Open(name=name, attrs=attrs, start=0)


def parse_html(source: str) -> ParsedText:
    """Parse Telegram HTML. Raises EntityParseError with Telegram's wording."""
    out: list[str] = []
    out_len = 0
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "<":
            end = source.find(">", pos)
            if end == -1:
                raise EntityParseError(
                    f"Unclosed start tag at byte offset {_byte_offset(source, pos)}"
                )
            inner = source[pos + 1 : end].strip()
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise EntityParseError(
                        f"Unexpected end tag at byte offset {_byte_offset(source, pos)}"
                    )
                top = stack.pop()
                if top.name != name:
                    raise EntityParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(source, pos)}, "
                        f'expected "</{top.name}>", found "</{name}>"'
                    )
                entity = _entity_for(top, out_len - top.start)
                if entity is not None and entity["length"] > 0:
                    entities.append(entity)
            else:
                tag = _open_tag(source, pos, inner)
                tag.start = out_len
                stack.append(tag)
            pos = end + 1
            continue
        if char == "&":
            match = _ENTITY.match(source, pos)
            if match:
                piece = _decode_entity(match)
                pos = match.end()
            else:
                piece = char
                pos += 1
        else:
            piece = char
            pos += 1
        out.append(piece)
        out_len += utf16_len(piece)
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities)
