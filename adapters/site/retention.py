"""The widget's file store as a `bridge.retention.FileArea`: what the retention jobs may delete.

The store's layout (adapters/site/uploads.py): `<root>/<widget>/<visitor>/<file id>` and
`<file id>.json` beside it. A visitor's upload has a random id of `UPLOAD_ID_LENGTH`
characters (`FileStore.save`); an operator's file kept for a visitor has a longer derived id
(`tokens.reply_file_id`), so the two are told apart by the name alone. A message that carries
an upload names it in its attachment's `file_ref`, `site-file:<visitor>/<file id>`
(routes.py); that is what the unattached-uploads job looks for in the database.
"""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

from adapters.site.history import FILE_REF_PREFIX
from adapters.site.tokens import VISITOR_ID
from adapters.site.uploads import FILE_ID, FileStore
from bridge.retention import KeptFile
from config.fields import NAME_PATTERN

#: Length of an upload's id: `secrets.token_urlsafe(18)` in `FileStore.save`.
UPLOAD_ID_LENGTH = 24
_META = ".json"


def upload_ref(visitor: str, file_id: str) -> str:
    """The `file_ref` of a visitor's upload in a message's attachments."""
    return f"{FILE_REF_PREFIX}{visitor}/{file_id}"


class SiteFiles:
    """Every widget's files under one `FileStore` root (files of removed widgets included)."""

    name = "site"

    def __init__(self, store: FileStore) -> None:
        self.store = store

    def scan(self) -> list[KeptFile]:
        root = self.store.root
        if not root.is_dir():
            return []
        found: list[KeptFile] = []
        for widget in _folders(root):
            if not NAME_PATTERN.match(widget.name):
                continue
            for visitor in _folders(widget):
                if VISITOR_ID.match(visitor.name):
                    found.extend(self._files(widget.name, visitor))
        return found

    def _files(self, widget: str, folder: Path) -> list[KeptFile]:
        modified: dict[str, float] = {}
        with contextlib.suppress(FileNotFoundError), os.scandir(folder) as entries:
            for entry in entries:
                file_id = entry.name.removesuffix(_META)
                if not FILE_ID.match(file_id):
                    continue  # not the store's: left alone
                with contextlib.suppress(FileNotFoundError):
                    mtime = entry.stat(follow_symlinks=False).st_mtime
                    modified[file_id] = max(mtime, modified.get(file_id, mtime))
        return [
            KeptFile(
                channel=f"site:{widget}",
                customer=folder.name,
                ref=upload_ref(folder.name, file_id),
                modified=datetime.fromtimestamp(mtime, UTC),
                uploaded=len(file_id) == UPLOAD_ID_LENGTH,
                path=folder / file_id,
            )
            for file_id, mtime in sorted(modified.items())
        ]

    def remove(self, file: KeptFile) -> bool:
        """The description first, so the store stops offering the file before it goes."""
        removed = False
        for path in (file.path.with_name(file.path.name + _META), file.path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed = True
        return removed

    def tidy(self, before: datetime) -> int:
        """Remove visitor (then widget) folders left empty and unchanged since `before`."""
        root = self.store.root
        if not root.is_dir():
            return 0
        removed = 0
        for widget in _folders(root):
            for folder in [*_folders(widget), widget]:
                removed += _remove_if_empty(folder, before)
        return removed


def _folders(path: Path) -> list[Path]:
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        return sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink())
    return []


def _remove_if_empty(folder: Path, before: datetime) -> int:
    try:
        if datetime.fromtimestamp(folder.stat().st_mtime, UTC) >= before:
            return 0
        folder.rmdir()  # fails, harmlessly, unless empty
    except OSError:
        return 0
    return 1
