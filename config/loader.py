"""Loading the config: read the YAML file, substitute `${VAR}`, validate, report every problem.

    config = load_config("config.yaml", platforms=schemas)           # env: os.environ
    config = parse_config({...}, source="demo", platforms=schemas)  # same, from a dict

`platforms` maps each key allowed under `channels:` to its platform's `PlatformSchema`; the
composition root passes the registered platforms' (app/config.py wraps both functions).
Both raise `ConfigError` whose lines read `FILE: key.path: message`, in file order.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError, create_model

from config.env import substitute
from config.errors import ConfigError
from config.messages import problems_from
from config.paths import Problem, document_order, format_path, position
from config.platforms import PlatformSchema
from config.rules import check_rules
from config.schema import BridgeConfig, Channels
from config.yaml_source import parse_yaml


def example_config_path() -> Path:
    """The commented example config that admins copy (shipped inside the package)."""
    return Path(__file__).with_name("example.yaml")


def load_config(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    *,
    platforms: Mapping[str, PlatformSchema],
) -> BridgeConfig:
    """Read and validate the config file at `path`; `env` defaults to `os.environ`."""
    source = str(path)
    text = _read(Path(path), source)
    data, yaml_errors = parse_yaml(text)
    if yaml_errors:
        raise ConfigError([f"{source}: {message}" for message in yaml_errors])
    if data is None:
        raise ConfigError(
            [f"{source}: the file is empty; start from a copy of {example_config_path()}"]
        )
    return parse_config(data, source=source, env=env, platforms=platforms)


def parse_config(
    data: dict[str, Any],
    *,
    source: str = "<config>",
    env: Mapping[str, str] | None = None,
    platforms: Mapping[str, PlatformSchema],
) -> BridgeConfig:
    """Validate config `data` (as parsed from YAML) with the same rules as `load_config`."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else repr(data)
        raise ConfigError(
            [f"{source}: the top level must be a section of 'key: value' lines, got {kind}"]
        )
    expanded, env_problems = substitute(data, os.environ if env is None else env)
    model = config_model(platforms)
    config: BridgeConfig | None = None
    try:
        config = model.model_validate(expanded)
    except ValidationError as exc:
        schema_problems = problems_from(exc, model)
    else:
        schema_problems = []
    rule_problems = check_rules(expanded, platforms)
    problems = _merge(env_problems, schema_problems, rule_problems)
    if problems:
        order = document_order(expanded)
        problems.sort(key=lambda problem: position(problem[0], order))
        raise ConfigError([_line(source, problem) for problem in problems])
    assert config is not None
    config._source = source
    config._bind_platforms(platforms)
    return config


def config_model(platforms: Mapping[str, PlatformSchema]) -> type[BridgeConfig]:
    """`BridgeConfig` whose `channels:` holds one optional section per platform, in order."""
    return _model_for(tuple((name, schema.section) for name, schema in platforms.items()))


@functools.cache
def _model_for(sections: tuple[tuple[str, type[BaseModel]], ...]) -> type[BridgeConfig]:
    """Memo of a pure function: building the models costs ~20 ms, validating with them ~0.3."""
    fields: dict[str, Any] = {name: (section | None, None) for name, section in sections}
    channels = create_model("Channels", __base__=Channels, **fields)
    return create_model("BridgeConfig", __base__=BridgeConfig, channels=(channels, ...))


def _merge(
    env_problems: list[Problem], schema_problems: list[Problem], rule_problems: list[Problem]
) -> list[Problem]:
    """All problems, minus those that only echo an earlier one about the same key."""
    env_paths = [path for path, _ in env_problems]
    schema_paths = {path for path, _ in schema_problems}

    def echoes_env(path: tuple) -> bool:
        # An unset ${VAR} leaves the text as written; what the schema says about it is noise.
        return any(path[: len(bad)] == bad or bad[: len(path)] == path for bad in env_paths)

    merged: list[Problem] = list(env_problems)
    merged += [p for p in schema_problems if not echoes_env(p[0])]
    merged += [p for p in rule_problems if not echoes_env(p[0]) and p[0] not in schema_paths]
    unique: list[Problem] = []
    for problem in merged:
        if problem not in unique:
            unique.append(problem)
    return unique


def _line(source: str, problem: Problem) -> str:
    path, message = problem
    return f"{source}: {format_path(path)}: {message}" if path else f"{source}: {message}"


def _read(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{source}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{source}: is a directory, not a config file"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{source}: not UTF-8 text"]) from None
    except OSError as exc:
        raise ConfigError([f"{source}: cannot read the file: {exc.strerror}"]) from None
