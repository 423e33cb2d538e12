"""`talker-bridge check-config`, run as a real process."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from config import example_config_path


def run_check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the command with the example's variables removed from the inherited environment."""
    example_variables = set(re.findall(r"\$\{(\w+)\}", example_config_path().read_text()))
    inherited = {k: v for k, v in os.environ.items() if k not in example_variables}
    return subprocess.run(
        [sys.executable, "-m", "app", "check-config", *args],
        env={**inherited, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_example_prints_ok_and_the_summary(example_env):
    result = run_check(str(example_config_path()), env=example_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "OK",
        "language ru, database sqlite, 1 group (support: topics, hours Europe/Moscow, "
        "accept within 5m, answer within 15m, auto-close after 1d), "
        "channels: telegram, vk (longpoll), viber, facebook, site (1 widget)",
    ]
    assert result.stderr == ""


def test_a_helpdesk_mistake_is_printed_with_its_key_path(example_env, tmp_path):
    text = example_config_path().read_text(encoding="utf-8")
    broken = tmp_path / "config.yaml"
    broken.write_text(
        text.replace("timezone: Europe/Moscow", "timezone: Europe/Moskow").replace(
            "accept_within: 5m", "accept_within: 5 minutes"
        ),
        encoding="utf-8",
    )
    result = run_check(str(broken), env=example_env)
    assert result.returncode != 0
    assert f"{broken}: groups.support.hours.timezone: unknown time zone 'Europe/Moskow' " in (
        result.stderr
    )
    assert "(did you mean 'Europe/Moscow'?)" in result.stderr
    assert f"{broken}: groups.support.sla.accept_within: not a duration: '5 minutes'" in (
        result.stderr
    )


def test_dash_c_option_works_like_the_positional_file(example_env):
    result = run_check("-c", str(example_config_path()), env=example_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK\n")


def test_problems_go_to_stderr_with_exit_code_2(tmp_path, example_env):
    path = tmp_path / "config.yaml"
    text = example_config_path().read_text(encoding="utf-8")
    path.write_text(
        text.replace("group: support        #", "group: sales        #").replace(
            "updates: polling", "updates: pooling"
        )
    )
    del example_env["VK_TOKEN"]
    result = run_check(str(path), env=example_env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}: telegram.updates: must be one of: polling, webhook (got 'pooling')",
        f"{path}: channels.telegram.group: unknown group 'sales' (known: support)",
        f"{path}: channels.vk.token: environment variable VK_TOKEN is not set",
    ]


def test_missing_file_is_one_line_and_exit_code_2(tmp_path):
    result = run_check(str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert result.stderr == f"{tmp_path / 'absent.yaml'}: no such file\n"


def test_two_different_files_are_refused(tmp_path):
    result = run_check("a.yaml", "-c", "b.yaml")
    assert result.returncode == 2
    assert "two files given" in result.stderr
