"""Files sent through the widget (by a visitor or to them): type- and size-limited, on disk.

Layout: `<root>/<widget>/<visitor>/<file id>` plus `<file id>.json` with the name and type.
A file is served only under its owner's signed link (see tokens.file_signature), so a visitor
reads their own files and nobody else's. The type is checked against the bytes, not trusted:
a visitor's upload of another type is refused; an operator's file of another type is kept as
`application/octet-stream`, which the widget offers as a download and never renders.
Files are created 0600 and the store's folders 0700 whatever the umask: visitors' files are
personal data, readable by the service's user only.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bridge.events import AttachmentKind

#: Accepted types and the first bytes that prove them (None: any text without NUL bytes).
ALLOWED_TYPES: dict[str, tuple[bytes, ...] | None] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
    "text/plain": None,
}
FILE_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
OPAQUE = "application/octet-stream"


class UploadRefused(ValueError):
    """The file is not accepted; the message says why (shown to the visitor)."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    id: str
    name: str
    mime: str
    size: int

    @property
    def kind(self) -> AttachmentKind:
        return "photo" if self.mime.startswith("image/") else "document"


#: The extensions a name may end with for each accepted type (the first is added when the
#: name's own does not match the bytes).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "image/png": ("png",),
    "image/jpeg": ("jpg", "jpeg"),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "application/pdf": ("pdf",),
    "text/plain": ("txt", "log", "csv", "md"),
}
#: Characters that reorder how a name is shown ("invoice\u202egnp.exe" shows as "invoice
#: exe.png") or hide in it: the bidirectional controls, marks and isolates.
_HIDDEN = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: Lone surrogates: undecodable bytes of a header, as aiohttp hands them on.
_SURROGATES = re.compile("[\ud800-\udfff]+")
MAX_NAME = 120


def clean_name(name: str | None, mime: str) -> str:
    """A file name safe to show and to put in a header, ending with an extension that
    matches the checked type (a PNG named "invoice.exe" is kept as "invoice.exe.png")."""
    name = _SURROGATES.sub("_", name or "")
    name = _HIDDEN.sub("", unicodedata.normalize("NFC", name))
    name = re.sub(r"[\x00-\x1f\x7f/\\\"]+", "_", name).strip(" .")
    allowed = EXTENSIONS.get(mime)
    default_ext = allowed[0] if allowed else {OPAQUE: "bin"}.get(mime, mime.split("/")[-1])
    if not name:
        return f"file.{default_ext}"
    if allowed is not None and name.rpartition(".")[2].lower() not in allowed:
        suffix = f".{allowed[0]}"
        return name[: MAX_NAME - len(suffix)].rstrip(" .") + suffix
    if len(name) <= MAX_NAME:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and 0 < len(ext) <= 10:
        return stem[: MAX_NAME - len(ext) - 1].rstrip(" .") + "." + ext
    return name[:MAX_NAME]


def check_type(data: bytes, mime: str) -> str:
    """The accepted media type of `data` claimed as `mime`; UploadRefused otherwise."""
    mime = (mime or "").split(";")[0].strip().lower()
    if mime not in ALLOWED_TYPES:
        raise UploadRefused(f"files of type {mime or 'unknown'} are not accepted")
    magic = ALLOWED_TYPES[mime]
    if magic is None:
        if b"\x00" in data:
            raise UploadRefused("this is not a text file")
        return mime
    if not any(data.startswith(m) for m in magic) or (
        mime == "image/webp" and data[8:12] != b"WEBP"
    ):
        raise UploadRefused(f"the file's contents are not {mime}")
    return mime


def _check_size(data: bytes, max_size: int) -> None:
    if not data:
        raise UploadRefused("the file is empty")
    if len(data) > max_size:
        raise UploadRefused(f"files are limited to {max_size // (1024 * 1024)} MB")


def sniff_type(data: bytes, claimed: str | None) -> str:
    """The accepted type of `data` (the claimed one if the bytes prove it), else OPAQUE."""
    try:
        return check_type(data, claimed or "")
    except UploadRefused:
        pass
    for mime, magic in ALLOWED_TYPES.items():
        if magic is not None:
            try:
                return check_type(data, mime)
            except UploadRefused:
                continue
    return OPAQUE


#: Modes of what the store creates, whatever the umask: only the service's user reads them.
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _write_whole(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with open(descriptor, "wb") as out:
        # The umask may have taken bits away, and a partial left by a crash had its own mode.
        os.fchmod(out.fileno(), FILE_MODE)
        out.write(data)
    os.replace(partial, path)


def _make_folder(folder: Path) -> None:
    """Create `folder` as FOLDER_MODE (an existing one is left as it is)."""
    try:
        folder.mkdir(FOLDER_MODE)
    except FileExistsError:
        return
    os.chmod(folder, FOLDER_MODE)


class FileStore:
    """Widget files on disk under `root`."""

    def __init__(self, root: Path, max_size: int) -> None:
        self.root = Path(root)
        self.max_size = max_size

    def _folder(self, widget: str, visitor: str) -> Path:
        return self.root / widget / visitor

    def save(
        self, widget: str, visitor: str, data: bytes, name: str | None, mime: str
    ) -> StoredFile:
        """Check and store a file; returns what the widget and the core need to know."""
        _check_size(data, self.max_size)
        mime = check_type(data, mime)
        return self._write(widget, visitor, secrets.token_urlsafe(18), name, mime, data)

    def keep(
        self,
        widget: str,
        visitor: str,
        file_id: str,
        data: bytes,
        name: str | None,
        mime: str | None,
        max_size: int,
    ) -> StoredFile:
        """Store an operator's file for the visitor under `file_id` (idempotent: a file already
        stored under that id is returned as it is). Any type: see the module docstring."""
        if not FILE_ID.match(file_id):
            raise ValueError(f"not a file id: {file_id!r}")
        found = self.find(widget, visitor, file_id)
        if found is not None:
            return found[1]
        _check_size(data, max_size)
        return self._write(widget, visitor, file_id, name, sniff_type(data, mime), data)

    def _write(
        self, widget: str, visitor: str, file_id: str, name: str | None, mime: str, data: bytes
    ) -> StoredFile:
        stored = StoredFile(file_id, clean_name(name, mime), mime, len(data))
        folder = self._folder(widget, visitor)
        self.root.parent.mkdir(parents=True, exist_ok=True)
        for level in (self.root, self.root / widget, folder):
            _make_folder(level)
        meta = {"name": stored.name, "mime": stored.mime, "size": stored.size}
        # Each part appears whole (written aside, then renamed), the description last: `find`
        # sees a file only once both are complete, and a crash leaves no partial file.
        _write_whole(folder / stored.id, data)
        _write_whole(folder / f"{stored.id}.json", json.dumps(meta).encode("utf-8"))
        return stored

    def find(self, widget: str, visitor: str, file_id: str) -> tuple[Path, StoredFile] | None:
        """The file's path and description, or None when this visitor has no such file."""
        if not FILE_ID.match(file_id):
            return None
        folder = self._folder(widget, visitor)
        path, meta_path = folder / file_id, folder / f"{file_id}.json"
        if not path.is_file() or not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return path, StoredFile(file_id, meta["name"], meta["mime"], int(meta["size"]))

    def remove_visitor(self, widget: str, visitor: str) -> int:
        """Delete every file of the visitor (a data-deletion request); returns how many files
        (descriptions not counted) were removed."""
        folder = self._folder(widget, visitor)
        if folder.parent != self.root / widget or not folder.is_dir():
            return 0  # a visitor id with a path separator names no folder of the store
        removed = sum(
            1 for path in folder.iterdir() if path.is_file() and not path.name.endswith(".json")
        )
        shutil.rmtree(folder)
        return removed
