"""`talker-bridge doctor` against the fake Telegram: OK when set up, the fix when not."""

from __future__ import annotations

from pathlib import Path

from tests.doctor.fakes import running_fakes, run_doctor


async def test_a_working_installation_passes_every_check(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        code, lines, stderr = await run_doctor(fakes.write_config(tmp_path / "config.yaml"))
    assert code == 0, "\n".join(lines) + stderr
    assert lines and all(line.startswith("OK    ") for line in lines), lines
    print("\n".join(lines))
