"""Reading the file: YAML syntax errors with their line, duplicate keys, missing files."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_config
from config import ConfigError

VALID = """\
telegram:
  token: 123456:real-token
groups:
  support: {chat_id: -1001000000001}
channels:
  telegram: {group: support}
"""


def errors_loading(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    return caught.value.errors


def test_valid_file_loads_and_remembers_its_path(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(VALID, encoding="utf-8")
    config = load_config(path, env={})
    assert config.source == str(path)
    assert config.enabled_channels() == ["telegram"]


def test_yaml_syntax_error_gives_its_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(VALID.replace("  token: 123456:real-token", "  token: [unclosed"))
    (line,) = errors_loading(path)
    assert line.startswith(f"{path}: line 3, column 7: invalid YAML: ")


def test_bad_indentation_gives_its_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("telegram:\n  token: x\n api_url: y\n")
    (line,) = errors_loading(path)
    assert line.startswith(f"{path}: line 3, column ")
    assert "invalid YAML" in line


def test_duplicate_keys_are_refused_with_their_lines(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(VALID + "telegram:\n  token: 654321:other\n")
    assert errors_loading(path) == [
        f"{path}: line 7: duplicate key 'telegram' (write each key once)"
    ]


def test_keys_stay_text_as_written(tmp_path):
    # YAML 1.1 would read the key `on` as the boolean true.
    path = tmp_path / "config.yaml"
    path.write_text(VALID + "on: 1\n")
    (line,) = errors_loading(path)
    assert line.startswith(f"{path}: on: unknown key 'on' (")


def test_missing_file_is_one_clear_line(tmp_path):
    path = tmp_path / "nope.yaml"
    assert errors_loading(path) == [f"{path}: no such file"]


def test_directory_is_refused(tmp_path):
    assert errors_loading(tmp_path) == [f"{tmp_path}: is a directory, not a config file"]


def test_empty_file_points_to_the_example(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("# nothing yet\n")
    (line,) = errors_loading(path)
    assert line.startswith(f"{path}: the file is empty; start from a copy of ")
    assert line.endswith("example.yaml")


def test_file_that_is_a_list_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("- telegram\n")
    assert errors_loading(path) == [
        f"{path}: the top level must be a section of 'key: value' lines, got a list"
    ]


def test_non_utf8_file_is_refused(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"language: \xff\xfe\n")
    assert errors_loading(path) == [f"{path}: not UTF-8 text"]


def test_yaml_anchors_and_merge_keys_may_override(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(
        "telegram: {token: '123456:real-token'}\n"
        "groups:\n"
        "  support: &base {mode: replies, chat_id: -1001}\n"
        "  sales:\n"
        "    <<: *base\n"
        "    chat_id: -1002\n"
        "channels: {telegram: {group: sales}}\n"
    )
    config = load_config(path, env={})
    assert config.groups["sales"].mode == "replies"
    assert config.groups["sales"].chat_id == -1002
