"""`ConfigError`: every problem of a config file at once, one printable line each."""

from __future__ import annotations


class ConfigError(Exception):
    """The config cannot be used. `errors` holds full lines like `FILE: key.path: message`."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))

    def __str__(self) -> str:
        return "\n".join(self.errors)
