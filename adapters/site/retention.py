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
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from adapters.site.history import FILE_REF_PREFIX
from adapters.site.replies import reply_key
from adapters.site.tokens import VISITOR_ID, reply_file_id
from adapters.site.uploads import FILE_ID, FileStore
from bridge.retention import KeptFile
from config.fields import NAME_PATTERN
from storage.retention import MessageFiles

#: Length of an upload's id: `secrets.token_urlsafe(18)` in `FileStore.save`.
UPLOAD_ID_LENGTH = 24
_META = ".json"


def upload_ref(visitor: str, file_id: str) -> str:
    """The `file_ref` of a visitor's upload in a message's attachments."""
    return f"{FILE_REF_PREFIX}{visitor}/{file_id}"


class SiteFiles:
    """Every widget's files under one `FileStore` root (files of removed widgets included).

    `key` is the widgets' signing key, which derives the ids of operators' files kept for
    visitors (`used_by` finds a deleted reply's copies by it); without it only visitors'
    uploads are found by message."""

    name = "site"

    def __init__(self, store: FileStore, key: bytes | None = None) -> None:
        self.store = store
        self.key = key

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

    def used_by(self, messages: Sequence[MessageFiles]) -> list[KeptFile]:
        """The widget files of these messages: a visitor's upload by its `file_ref`, the copy
        of an operator's file by the id derived from the message and the file's place."""
        found: list[KeptFile] = []
        for message in messages:
            family, _, widget = message.channel.partition(":")
            visitor = message.customer
            if family != self.name or not NAME_PATTERN.match(widget):
                continue
            if not VISITOR_ID.match(visitor):
                continue
            for index, attachment in enumerate(message.attachments):
                file_id = self._file_id(widget, visitor, message, index, attachment)
                if file_id is None or not FILE_ID.match(file_id):
                    continue
                path = self.store.root / widget / visitor / file_id
                with contextlib.suppress(FileNotFoundError):
                    modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    found.append(
                        KeptFile(
                            channel=message.channel,
                            customer=visitor,
                            ref=upload_ref(visitor, file_id),
                            modified=modified,
                            uploaded=len(file_id) == UPLOAD_ID_LENGTH,
                            path=path,
                        )
                    )
        return found

    def _file_id(
        self, widget: str, visitor: str, message: MessageFiles, index: int, attachment: object
    ) -> str | None:
        if message.outbound:
            if self.key is None:
                return None
            reply = reply_key(message.message_id, None)
            return reply_file_id(self.key, widget, visitor, reply, index)
        ref = attachment.get("file_ref") if isinstance(attachment, dict) else None
        prefix = upload_ref(visitor, "")
        if not isinstance(ref, str) or not ref.startswith(prefix):
            return None
        return ref.removeprefix(prefix)

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
