"""Every `talker-bridge` command's `--help` explains every option and shows its default, and
every command that reads a config takes `-c/--config FILE` (issue 17)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser, main, walk_parsers

#: The commands that read the bridge's config, and an argument list that reaches the reading.
READS_CONFIG = {
    ("run",): [],
    ("check-config",): [],
    ("migrate",): [],
    ("set-webhooks",): [],
    ("dead-letters",): [],
    ("doctor",): [],
    ("dead-letters", "replay"): ["1"],
    ("forget",): ["--conversation", "1"],
}
#: The commands that read no config (they run fakes or draw a picture).
NO_CONFIG = {("sandbox",), ("demo",), ("avatar",)}

#: What an option that has no default to tell holds as its default.
NO_DEFAULT = (None, False, argparse.SUPPRESS)

COMMANDS = [path for path, _ in walk_parsers(build_parser()) if path]


def help_of(capsys: pytest.CaptureFixture[str], command: tuple[str, ...]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def option_entries(help_text: str) -> dict[str, str]:
    """Each option's invocation (`-c FILE, --config FILE`) and its help, from `--help`."""
    lines = help_text.split("options:\n", 1)[1].splitlines()
    entries: dict[str, str] = {}
    current = ""
    for line in lines:
        if not line.strip():
            break
        if line.startswith("  -"):
            invocation, _, text = line.strip().partition("  ")
            current = invocation
            entries[current] = text.strip()
        elif line.startswith("    ") and current:
            entries[current] = (entries[current] + " " + line.strip()).strip()
    return entries


def test_every_command_is_classed_as_reading_a_config_or_not() -> None:
    assert set(COMMANDS) == set(READS_CONFIG) | NO_CONFIG


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_option_has_help_and_shows_its_default(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_of(capsys, command)
    entries = option_entries(text)
    assert "-h, --help" in entries
    for invocation, help_text in entries.items():
        assert help_text, f"talker-bridge {' '.join(command)}: {invocation} has no help"
    parser = dict(walk_parsers(build_parser()))[command]
    for action in parser._actions:  # argparse lists an option's default nowhere else
        default = action.default
        if not action.option_strings or any(default is v for v in NO_DEFAULT):
            continue
        flag = action.option_strings[-1]
        entry = next(text for inv, text in entries.items() if flag in inv.split(", ")[-1])
        assert "default" in entry, f"talker-bridge {' '.join(command)} {flag}: {entry!r}"


@pytest.mark.parametrize("command", sorted(READS_CONFIG), ids=" ".join)
def test_commands_that_read_a_config_take_dash_c_and_long_config(
    command: tuple[str, ...], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert "-c FILE, --config FILE" in option_entries(help_of(capsys, command))
    # -c and --config are one option (the help line above); the command takes it and goes to
    # read that file.
    missing = tmp_path / "nowhere.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "app", *command, "--config", str(missing), *READS_CONFIG[command]],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "nowhere.yaml" in result.stderr, result.stderr
    assert "unrecognized arguments" not in result.stderr
