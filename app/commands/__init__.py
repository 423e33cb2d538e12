"""The CLI's subcommands, one module each (`register` adds its parser, the function runs it)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from config import BridgeConfig


def config_or_report(path: str, prefix: str = "") -> BridgeConfig | None:
    """The validated config at `path`, or None after printing why not to stderr (each error
    names the file and the key; `prefix` names the command): the command then exits 2."""
    from app.config import load_config
    from config import ConfigError

    try:
        return load_config(path)
    except (ConfigError, OSError) as exc:
        print(f"{prefix}{exc}", file=sys.stderr)
        return None
