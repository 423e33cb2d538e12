"""Reading the config's YAML text: syntax errors with their line, duplicate keys refused.

Keys are kept as the text written in the file (`on:` stays `"on"`, `123:` stays `"123"`), so
key paths in messages read like the file. Values follow YAML's usual (safe) typing.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode


class _ConfigLoader(yaml.SafeLoader):
    """SafeLoader with text keys and a record of duplicate keys instead of silent overwrite."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(
                    None,
                    None,
                    "a key must be a plain name, not a list or mapping",
                    key_node.start_mark,
                )
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` keys may be overridden on purpose
            if key_node.value in seen:
                line = key_node.start_mark.line + 1
                self.duplicates.append(
                    f"line {line}: duplicate key {key_node.value!r} (write each key once)"
                )
            seen.add(key_node.value)
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping


_ConfigLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _ConfigLoader.construct_mapping
)


def parse_yaml(text: str) -> tuple[Any, list[str]]:
    """Parse `text`; return the data (None on failure) and error messages (without file name)."""
    loader = _ConfigLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        return None, [_describe(exc)]
    except yaml.YAMLError as exc:
        return None, [f"invalid YAML: {exc}"]
    finally:
        loader.dispose()
    if loader.duplicates:
        return None, loader.duplicates
    return data, []


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"line {mark.line + 1}, column {mark.column + 1}: invalid YAML: {problem}"
