"""`talker-bridge migrate`: bring the configured database to the newest schema.

Reads `database` from the config file (SQLite by default, PostgreSQL by URL) and runs the
Alembic migrations in storage/migrations. Running it on an up-to-date database changes nothing,
so deploy scripts may run it before every start.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="create or upgrade the database tables",
        description="Create or upgrade the database named by `database` in the config file.",
    )
    parser.add_argument(
        "-c", "--config", required=True, metavar="FILE", help="the bridge config (YAML)"
    )
    parser.add_argument(
        "--database", metavar="URL", help="migrate this database URL instead of the config's"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Migrate the database; exit 0 when done, 2 for a bad config, 1 when migrating failed."""
    try:
        url = args.database or _database_from_config(args.config)
        from storage.db import backend_name

        backend = backend_name(url)
    except (OSError, ValueError) as exc:
        print(f"talker-bridge migrate: {exc}", file=sys.stderr)
        return 2

    from storage import migrate

    try:
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    except Exception as exc:  # report any database failure in one line, not a traceback
        print(
            f"talker-bridge migrate: migrating the {backend} database failed: {exc}",
            file=sys.stderr,
        )
        return 1
    if before == after:
        print(f"{backend} database is up to date (revision {after})")
    else:
        print(f"{backend} database migrated from {before or 'empty'} to revision {after}")
    return 0


def _database_from_config(path: str) -> str:
    from app.config import load_config
    from config import ConfigError

    try:
        return str(load_config(path).database)
    except ConfigError as exc:
        raise ValueError(str(exc)) from exc
