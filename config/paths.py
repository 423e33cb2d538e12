"""Key paths in the config (`channels.vk.group`, `...origins[0]`) and problems found at them."""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str | int, ...]
"""Keys from the top of the file down; an `int` is an index into a list."""

Problem = tuple[Path, str]
"""A path and what is wrong there; the loader prefixes the file name when printing."""


def format_path(path: Path) -> str:
    """`("channels", "site", "widgets", "shop", "origins", 0)` -> `channels.site...origins[0]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not part or not part.isprintable() or "." in part or "[" in part:
            text += f"[{json.dumps(part)}]"  # a key that would not read as one path step
        else:
            text += f".{part}" if text else part
    return text


def document_order(data: Any) -> dict[Path, tuple[int, int]]:
    """Every path in `data` -> (its place in the file, the place of its last descendant)."""
    order: dict[Path, tuple[int, int]] = {}

    def walk(value: Any, path: Path) -> int:
        start = len(order)
        order[path] = (start, start)
        end = start
        if isinstance(value, dict):
            for key, item in value.items():
                end = walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                end = walk(item, (*path, index))
        order[path] = (start, end)
        return end

    walk(data, ())
    return order


def position(path: Path, order: dict[Path, tuple[int, int]]) -> float:
    """Where a problem at `path` belongs in file order.

    A path missing from the file (a required key left out) goes right after the section that
    should hold it.
    """
    if path in order:
        return order[path][0]
    for length in range(len(path) - 1, -1, -1):
        if path[:length] in order:
            return order[path[:length]][1] + 0.5
    return len(order)


def lookup(data: Any, path: Path) -> Any:
    """The value at `path`, or None when the path does not exist or crosses a non-mapping."""
    value = data
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return None
        elif not isinstance(value, dict):
            return None
        elif part not in value:
            return None
        value = value[part]
    return value
