"""What the doctor found: one line per check, OK or FAIL with the fix."""

from __future__ import annotations

from dataclasses import dataclass, field

OK = "OK    "
FAIL = "FAIL  "


@dataclass(slots=True)
class Findings:
    """The lines to print; `ok` is False once any check failed."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def good(self, line: str) -> None:
        self.lines.append(OK + line)

    def bad(self, line: str, fix: str) -> None:
        self.lines.append(f"{FAIL}{line} — fix: {fix}")
        self.ok = False
