"""`${VAR}` substitution from the environment, so secrets stay out of the config file.

`${NAME}` is replaced anywhere inside a string value (`postgresql://bot:${DB_PASSWORD}@db/bot`);
`$${` is a literal `${`. Only values are substituted, never keys. A referenced variable that is
not set is an error naming the key and the variable; a variable the file does not mention is
never looked at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from config.paths import Path, Problem

_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def substitute(data: Any, env: Mapping[str, str]) -> tuple[Any, list[Problem]]:
    """Return `data` with every `${VAR}` replaced, and the problems found on the way.

    A value with a problem is kept as written, so that later checks can skip its path.
    """
    problems: list[Problem] = []
    return _walk(data, (), env, problems), problems


def _walk(value: Any, path: Path, env: Mapping[str, str], problems: list[Problem]) -> Any:
    if isinstance(value, dict):
        return {key: _walk(item, (*path, key), env, problems) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, (*path, index), env, problems) for index, item in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return _expand(value, path, env, problems)
    return value


def _expand(text: str, path: Path, env: Mapping[str, str], problems: list[Problem]) -> str:
    found: list[Problem] = []

    def replace(match: re.Match[str]) -> str:
        whole = match.group(0)
        if whole == "$${":
            return "${"
        name = match.group(1)
        if name is None:
            found.append((path, "unclosed '${' (write ${NAME}, or $${ for a literal '${')"))
            return whole
        if not _VARIABLE_NAME.match(name):
            found.append(
                (path, f"bad variable reference {whole!r}: a name is letters, digits and '_'")
            )
            return whole
        if name not in env:
            found.append((path, f"environment variable {name} is not set"))
            return whole
        return env[name]

    expanded = _REFERENCE.sub(replace, text)
    if found:
        problems.extend(found)
        return text
    return expanded
