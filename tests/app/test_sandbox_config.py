"""The config `talker-bridge sandbox` prints passes `talker-bridge check-config` as pasted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sandbox.runner import free_port

HEADER = "Point a bridge at it with:"


def printed_config(port: int) -> str:
    """Start the sandbox, read its output up to the end of the printed config, stop it."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "sandbox", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        for line in proc.stdout:  # ends at EOF should the sandbox die first
            if line.strip() == HEADER:
                break
        for line in proc.stdout:
            if not line.strip():  # a blank line ends the config
                break
            lines.append(line)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    return "".join(lines)


def test_the_printed_sandbox_config_passes_check_config(tmp_path: Path) -> None:
    port = free_port()
    config = printed_config(port)
    assert f"api_url: http://127.0.0.1:{port}/telegram" in config
    path = tmp_path / "config.yaml"
    path.write_text(config, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "app", "check-config", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK\n")
    assert "channels: telegram, vk (longpoll), viber, facebook" in result.stdout
