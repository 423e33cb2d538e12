"""`talker-bridge avatar` without `-o` writes avatar.png here and prints where it wrote."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_without_output_it_prints_the_full_path_of_the_file_it_wrote(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", "avatar", "--name", "Anna", "--channel", "telegram"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "avatar.png"
    assert result.stdout.strip() == str(written)
    assert Image.open(written).format == "PNG"
