"""Loading the config with the registered platforms' sections (config/ knows no platform).

    config = load_config("config.yaml")            # what `run`, `check-config`... use
    config = parse_config({...}, source="demo")    # the same from a dict (demo, tests, bench)

Both are `config.load_config`/`config.parse_config` with `platforms` taken from
`app.platforms.registry()`, or from the `platforms` registry given (a test's toy platform).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import config as config_package
from app.platforms import registry
from bridge.platforms import Registry
from config import BridgeConfig


def load_config(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    *,
    platforms: Registry | None = None,
) -> BridgeConfig:
    """Read and validate the config file at `path`; `env` defaults to `os.environ`."""
    schemas = _schemas(platforms)
    return config_package.load_config(path, env, platforms=schemas)


def parse_config(
    data: dict[str, Any],
    *,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    platforms: Registry | None = None,
) -> BridgeConfig:
    """Validate config `data` (as parsed from YAML) with the same rules as `load_config`."""
    schemas = _schemas(platforms)
    return config_package.parse_config(data, source=source, env=env, platforms=schemas)


def config_model(platforms: Registry | None = None) -> type[BridgeConfig]:
    """The `BridgeConfig` model with the registered platforms' sections under `channels:`."""
    return config_package.config_model(_schemas(platforms))


def _schemas(platforms: Registry | None) -> dict[str, config_package.PlatformSchema]:
    return (registry() if platforms is None else platforms).schemas()


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`base` (a config as a dict) with `changes` merged in, section by section: a mapping
    merges into a mapping, anything else replaces the value (the demo's and tests' overrides)."""
    result = dict(base)
    for key, value in changes.items():
        current = result.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            result[key] = merged(current, value)
        else:
            result[key] = value
    return result
