"""`talker-bridge avatar`: writes a valid PNG and prints its path; bad input is a clear error."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from app.cli import main
from bridge.avatars import GUEST_GREY, colour_for
from bridge.avatars.palette import hex_to_rgb


def test_command_writes_a_png_and_prints_its_path(tmp_path: Path) -> None:
    out = tmp_path / "ivan.png"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "avatar",
            "--name",
            "Иван Петров",
            "--channel",
            "vk",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    image = Image.open(io.BytesIO(out.read_bytes()))
    assert (image.format, image.size, image.mode) == ("PNG", (256, 256), "RGBA")
    assert image.getpixel((128, 20))[:3] == hex_to_rgb(colour_for("Иван Петров"))


def test_size_and_seed_options_are_honoured(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "a.png"
    code = main(
        [
            "avatar",
            "--name",
            "Anna",
            "--channel",
            "site:shop",
            "--size",
            "64",
            "--seed",
            "customer-9",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    image = Image.open(out)
    assert image.size == (64, 64)
    assert image.getpixel((32, 5))[:3] == hex_to_rgb(colour_for("customer-9"))


def test_guest_avatar_is_grey(tmp_path: Path) -> None:
    out = tmp_path / "guest.png"
    assert main(["avatar", "--guest-number", "17", "--channel", "telegram", "-o", str(out)]) == 0
    assert Image.open(out).getpixel((128, 20))[:3] == hex_to_rgb(GUEST_GREY)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--name", "A", "--channel", "icq"], "unknown channel 'icq'"),
        (["--name", "A", "--channel", "vk", "--size", "9"], "size must be 16..1024"),
        (["--guest-number", "0", "--channel", "vk"], "--guest-number must be 1 or more"),
    ],
)
def test_bad_input_is_a_clear_error(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "x.png"
    assert main(["avatar", *argv, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_unwritable_output_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "missing-dir" / "x.png"
    assert main(["avatar", "--name", "A", "--channel", "vk", "-o", str(target)]) == 2
    assert "cannot write" in capsys.readouterr().err
