"""Uploaded files: store them, resolve an InputFile parameter, and serve downloads.

An InputFile parameter may be a multipart file part, `attach://<part name>`, an HTTP(S) URL
(fetched, as Telegram does) or a file_id from an earlier message (reusable, but only as the
same kind: a document's file_id cannot be sent as a photo). Photos are decoded with Pillow to
learn their size; bytes that are not an image fail with `IMAGE_PROCESS_FAILED`, as on Telegram.
"""

from __future__ import annotations

import io
import mimetypes
import secrets
from typing import Any

import aiohttp
from PIL import Image, UnidentifiedImageError

from sandbox.telegram.errors import bad_request
from sandbox.telegram.spec import UploadedFile
from sandbox.telegram.state import StoredFile, World

_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "audio": "music",
    "video": "videos",
    "sticker": "stickers",
    "animation": "animations",
    "video_note": "video_notes",
}
MAX_UPLOAD = {"photo": 10 * 1024 * 1024}
DEFAULT_MAX_UPLOAD = 50 * 1024 * 1024


def store_file(
    world: World,
    kind: str,
    data: bytes,
    filename: str | None = None,
    mime_type: str | None = None,
) -> StoredFile:
    """Keep `data` as a new file of `kind` and return its record (with a fresh file_id)."""
    if len(data) > MAX_UPLOAD.get(kind, DEFAULT_MAX_UPLOAD):
        raise bad_request("file is too big")
    width = height = None
    if kind in ("photo", "sticker"):
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError) as error:
            raise bad_request("IMAGE_PROCESS_FAILED") from error
    seq = world.next_file_seq()
    suffix = _suffix(kind, filename, mime_type)
    stored = StoredFile(
        file_id=f"{kind[:3].upper()}{seq}-{secrets.token_urlsafe(16)}",
        file_unique_id=f"U{seq}{secrets.token_hex(4)}",
        kind=kind,
        data=data,
        file_path=f"{_FOLDERS[kind]}/file_{seq}{suffix}",
        filename=filename,
        mime_type=mime_type or (mimetypes.guess_type(filename)[0] if filename else None),
        width=width,
        height=height,
    )
    world.files[stored.file_id] = stored
    return stored


def _suffix(kind: str, filename: str | None, mime_type: str | None) -> str:
    if filename and "." in filename:
        return "." + filename.rsplit(".", 1)[1][:8]
    if kind == "photo":
        return ".jpg"
    if kind == "voice":
        return ".oga"
    guessed = mimetypes.guess_extension(mime_type) if mime_type else None
    return guessed or ""


async def resolve_input_file(
    world: World,
    kind: str,
    value: Any,
    attachments: dict[str, UploadedFile],
    field: str,
) -> StoredFile:
    """Turn an InputFile value into a stored file, or raise 400 as Telegram would."""
    if isinstance(value, UploadedFile):
        return store_file(world, kind, value.data, value.filename, value.content_type)
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {field} in the request")
    if value.startswith("attach://"):
        part = attachments.get(value.removeprefix("attach://"))
        if part is None:
            raise bad_request(f"file attachment {value!r} not found in the request")
        return store_file(world, kind, part.data, part.filename, part.content_type)
    if value.startswith(("http://", "https://")):
        return store_file(world, kind, await _download(value), value.rsplit("/", 1)[-1] or None)
    stored = world.files.get(value)
    if stored is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad_request(
            f"can't use file of type {stored.kind.title()} as {kind.replace('_', ' ').title()}"
        )
    return stored


async def _download(url: str) -> bytes:
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url) as resp:
            if resp.status != 200:
                raise bad_request("failed to get HTTP URL content")
            return await resp.read()
    except (aiohttp.ClientError, TimeoutError) as error:
        raise bad_request("failed to get HTTP URL content") from error
