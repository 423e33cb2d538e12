"""The core never imports a customer platform's SDK (STYLE.md, "Our shape").

aiogram is allowed only in `bridge/desk/` (the operators' Telegram desk); vk_api and viberbot
never appear in `bridge/` at all. Platform code lives in `adapters/<platform>/`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BRIDGE = ROOT / "bridge"
PLATFORM_SDKS = ("aiogram", "vk_api", "viberbot", "requests")
DESK = BRIDGE / "desk"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def forbidden_imports(path: Path) -> list[str]:
    allowed = {"aiogram"} if DESK in path.parents else set()
    return sorted(
        name
        for name in imported_modules(path)
        if name.split(".")[0] in PLATFORM_SDKS and name.split(".")[0] not in allowed
    )


def test_core_modules_import_no_platform_sdk() -> None:
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in BRIDGE.rglob("*.py")
        if (bad := forbidden_imports(path))
    }
    assert offenders == {}


@pytest.mark.parametrize("sdk", ["vk_api", "viberbot", "aiogram"])
def test_the_check_catches_a_platform_import(tmp_path: Path, sdk: str) -> None:
    module = tmp_path / "core_module.py"
    module.write_text(f"import os\nfrom {sdk} import something\n", encoding="utf-8")
    assert forbidden_imports(module) == [sdk]
