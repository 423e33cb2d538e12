"""Attachments of the fake Page: the Attachment Upload API and files sent with the Send API.

Meta documents two ways to send a file: by URL (`payload: {url, is_reusable}`) or as the
`filedata` part of a multipart request whose other parts (`recipient`, `message`) are JSON
strings; either works on `POST /<version>/me/messages` and on `POST /<version>/me/
message_attachments`, which only stores the file and answers `{attachment_id}`. A reusable
attachment (and every upload) gets an `attachment_id` that later messages may send instead of
the file (`payload: {attachment_id}`).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.facebook.send_rules import ATTACHMENT_TYPES, GraphError, param_error

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
FIRST_ATTACHMENT_ID = 1_857_777_774_821_000


@dataclass(frozen=True, slots=True)
class FileData:
    """The `filedata` part of a multipart call."""

    name: str
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment the Page may send again by id: from a URL, or uploaded bytes."""

    kind: str
    url: str | None
    file: FileData | None


async def read_graph_body(request: web.Request) -> tuple[dict[str, Any], FileData | None]:
    """The call's parameters (JSON body, or multipart parts with JSON values) and its file."""
    if not request.content_type.startswith("multipart/"):
        try:
            parsed = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise param_error("Invalid JSON body") from None
        return (parsed if isinstance(parsed, dict) else {}), None
    body: dict[str, Any] = {}
    file: FileData | None = None
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.name == "filedata":
            data = bytes(await part.read())
            if len(data) > MAX_UPLOAD_BYTES:
                raise param_error("The file is larger than 25 MB")
            content_type = part.headers.get("Content-Type", "application/octet-stream")
            file = FileData(part.filename or "file", data, content_type)
            continue
        text = await part.text()
        try:
            body[part.name] = json.loads(text)
        except ValueError:
            body[part.name] = text  # a plain value (messaging_type=RESPONSE)
    return body, file


class AttachmentStore:
    """Attachments by id, as the Page's uploads and reusable sends created them."""

    def __init__(self) -> None:
        self._ids = itertools.count(FIRST_ATTACHMENT_ID)
        self.items: dict[str, StoredAttachment] = {}

    def add(self, kind: str, url: str | None, file: FileData | None) -> str:
        attachment_id = str(next(self._ids))
        self.items[attachment_id] = StoredAttachment(kind, url, file)
        return attachment_id

    def upload(self, body: dict[str, Any], file: FileData | None) -> str:
        """`POST me/message_attachments`: `message.attachment` with a URL or the file."""
        message = body.get("message")
        attachment = message.get("attachment") if isinstance(message, dict) else None
        if not isinstance(attachment, dict):
            raise param_error("The parameter message[attachment] is required")
        kind = attachment.get("type")
        if kind not in ATTACHMENT_TYPES or kind == "template":
            raise param_error(
                "Param message[attachment][type] must be one of image, video, audio, file"
            )
        payload = attachment.get("payload") or {}
        url = payload.get("url") if isinstance(payload, dict) else None
        if (url is None) == (file is None):
            raise param_error("Give either message[attachment][payload][url] or filedata")
        return self.add(str(kind), url, file)

    def check_reference(self, attachment_id: Any) -> None:
        if str(attachment_id) not in self.items:
            # Meta's exact wording for an unknown id is not documented; the code is 100.
            raise GraphError(100, f"(#100) No attachment with id {attachment_id} for this Page")
