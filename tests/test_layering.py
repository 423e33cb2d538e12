"""Every import points down the layers of docs/architecture.md; a test reads them with `ast`.

| layer | package(s) | may import (first-party) |
|---|---|---|
| composition root | `app` | everything |
| customer platforms | `adapters.<platform>` | core, storage, config, `botapi`, `adapters.common` |
| shared adapter helpers | `adapters.common` | the core, storage, config |
| the operators' desk | `desk` | the core, storage, config, `botapi` |
| the Telegram Bot API plumbing | `botapi` | the core, storage, config |
| the core | `bridge` | storage, config |
| storage | `storage` | config |
| config | `config` | nothing first-party |
| fake platforms | `sandbox` | nothing first-party |

An adapter never imports another platform. Platform SDKs stay at the edges: aiogram only in
`botapi`, `desk` and `adapters.telegram`; vk_api and requests only in `adapters.vk`; viberbot
only in `adapters.viber`. `tests` and `bench` sit
above everything and are not checked. Imports inside `if TYPE_CHECKING:` count like any other:
an upward arrow for the type checker is an upward arrow for a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("app", "adapters", "desk", "botapi", "bridge", "storage", "config", "sandbox")
CORE_AND_BELOW = {"bridge", "storage", "config"}

#: layer -> first-party layers it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "app": {"*"},
    "adapters.common": CORE_AND_BELOW,
    "adapters.<platform>": CORE_AND_BELOW | {"botapi", "adapters.common"},
    "desk": CORE_AND_BELOW | {"botapi"},
    "botapi": CORE_AND_BELOW,
    "bridge": {"storage", "config"},
    "storage": {"config"},
    "config": set(),
    "sandbox": set(),
}
#: SDK (top-level module) -> layers that may import it.
SDK_HOMES: dict[str, set[str]] = {
    "aiogram": {"botapi", "desk", "adapters.telegram"},
    "vk_api": {"adapters.vk"},
    "requests": {"adapters.vk"},
    "viberbot": {"adapters.viber"},
}


def layer_of(module: str) -> str | None:
    """The layer a dotted module name belongs to (`adapters.vk.sender` -> `adapters.vk`)."""
    parts = module.split(".")
    if parts[0] not in FIRST_PARTY:
        return None
    if parts[0] == "adapters":
        return f"adapters.{parts[1]}" if len(parts) > 1 and parts[1] != "__init__" else "adapters"
    return parts[0]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def may_import(importer: str, imported: str) -> bool:
    """May code of layer `importer` import a module of layer `imported`?"""
    if importer == imported or importer == "app":
        return True
    if imported == "adapters":  # the package's own __init__: no code, no arrow
        return importer.startswith("adapters")
    rule = "adapters.<platform>" if importer.startswith("adapters.") else importer
    if importer.startswith("adapters.") and importer != "adapters.common":
        rule = "adapters.<platform>"
    if importer == "adapters.common":
        rule = "adapters.common"
    return imported in ALLOWED.get(rule, set())


def violations(path: Path, module: str) -> list[str]:
    """The imports of `path` (the file of `module`) that point the wrong way."""
    importer = layer_of(module)
    if importer is None:
        return []
    found = []
    for name in sorted(imported_modules(path)):
        top = name.split(".")[0]
        imported = layer_of(name)
        if imported is not None and not may_import(importer, imported):
            found.append(f"{name} ({importer} -> {imported})")
        homes = SDK_HOMES.get(top)
        if homes is not None and importer not in homes and importer != "app":
            found.append(f"{name} (SDK outside {', '.join(sorted(homes))})")
    return found


def product_modules() -> list[tuple[Path, str]]:
    found = []
    for package in FIRST_PARTY:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found.append((path, ".".join(parts)))
    return found


def test_every_import_points_down_the_layers() -> None:
    offenders = {
        module: bad for path, module in product_modules() if (bad := violations(path, module))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("bridge.core.x", "from adapters.vk.sender import VkSender", "adapters.vk"),
        ("bridge.outbox.x", "from desk.runtime import DeskRuntime", "desk"),
        ("bridge.core.x", "import sandbox.server", "sandbox"),
        ("bridge.core.x", "from app.service import Service", "app"),
        ("bridge.core.x", "from botapi.sender import TelegramCalls", "botapi"),
        ("adapters.vk.x", "from adapters.viber.convert import to_inbound", "adapters.viber"),
        ("adapters.telegram.x", "from desk.feed import FeedDesk", "desk"),
        ("desk.x", "from adapters.telegram.convert import to_inbound", "adapters.telegram"),
        ("botapi.x", "from desk import completions", "desk"),
        ("storage.x", "from bridge.events import Inbound", "bridge"),
        ("sandbox.demo.x", "from bridge.components import ComponentState", "bridge"),
        ("bridge.core.x", "import aiogram", "SDK"),
        ("desk.x", "from vk_api import VkApi", "SDK"),
        ("adapters.facebook.x", "from viberbot import Api", "SDK"),
    ],
)
def test_the_check_catches_an_upward_or_sideways_import(
    tmp_path: Path, module: str, source: str, expected: str
) -> None:
    path = tmp_path / "module.py"
    path.write_text(f"import os\n\n{source}\n", encoding="utf-8")
    found = violations(path, module)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("app.wiring", "from adapters.vk import PLATFORM"),
        ("adapters.vk.x", "from bridge.errors import RetryAfter"),
        ("adapters.telegram.x", "from botapi.calls import call"),
        ("adapters.vk.x", "from adapters.common.outlet import PlatformOutlet"),
        ("desk.x", "from botapi.sender import TelegramCalls"),
        ("bridge.core.x", "from storage.models import Conversation"),
        ("botapi.x", "import aiogram"),
    ],
)
def test_the_check_allows_downward_imports(tmp_path: Path, module: str, source: str) -> None:
    path = tmp_path / "module.py"
    path.write_text(f"{source}\n", encoding="utf-8")
    assert violations(path, module) == []
