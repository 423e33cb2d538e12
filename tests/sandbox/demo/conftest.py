"""Fixtures of the demo's tests: `talker-bridge demo` as a subprocess, and headless Chromium.

Browser tests use Debian's chromium (/usr/bin/chromium) through Playwright, never a downloaded
browser. Without it they skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.runner import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@dataclass
class DemoProcess:
    proc: subprocess.Popen[str]
    url: str  # the /demo page
    base_url: str
    output: list[str]


@contextmanager
def demo_process(*extra: str, port: int | None = None) -> Iterator[DemoProcess]:
    """Run `talker-bridge demo --port P` until the block ends, then SIGTERM it."""
    port = port or free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "demo", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    output: list[str] = []
    url = ""
    for line in proc.stdout:  # ends at EOF if the process dies
        output.append(line)
        if "open http" in line:
            url = line.rsplit(" ", 1)[1].strip()
            break
    try:
        assert url == f"http://127.0.0.1:{port}/demo", "".join(output)
        yield DemoProcess(proc, url, url.removesuffix("/demo"), output)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """A headless Debian chromium driven by Playwright (skips without it; fails in CI)."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
