"""The Telegram Bot API sender of the outbox: one payload → one aiogram call.

A Telegram outbox row's payload describes a Bot API call:

    {"method": "sendMessage", "params": {"chat_id": -100, "text": "hi"}}
    {"method": "sendPhoto", "params": {"chat_id": -100, "caption": "…"},
     "files": {"photo": {"data_b64": "<base64>", "filename": "avatar.png"}}}

`files` entries are uploaded as multipart (`data_b64` bytes or a local `path`); a file_id or a
URL goes in `params` as usual. The call runs through an aiogram `Bot` whose session points at
the configured API base URL, and aiogram's errors are mapped to `bridge.errors` here, in ONE
place (`map_error`).

Telegram has no idempotency key: if the process dies after Telegram accepted a call and before
the worker marked the row done, the call is repeated after restart (see bridge/outbox/worker.py).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import BufferedInputFile, FSInputFile, InputFile
from pydantic import BaseModel, ValidationError

from bridge.core.cards import MESSAGE_LIMIT, tg_length
from bridge.errors import (
    BridgeError,
    PermanentError,
    PlaceClosed,
    PlaceGone,
    RecipientUnreachable,
    RetryAfter,
    TransientError,
)


class Harmless(StrEnum):
    """Bad requests that mean "nothing left to do" (the value is Telegram's wording)."""

    NOT_MODIFIED = "message is not modified"
    QUERY_TOO_OLD = "query is too old"
    QUERY_ID_INVALID = "query id is invalid"


@dataclass(frozen=True, slots=True)
class Ignored:
    """`map_error`'s answer to a harmless refusal: the call counts as done."""

    why: Harmless
    description: str

    def __str__(self) -> str:
        return self.description


#: Telegram's words for a forum topic that is gone (deleted) or closed: bridge.errors.PlaceGone
#: and PlaceClosed, which the desk branches on (desk/completions.py).
PLACE_GONE_WORDS = ("thread not found", "topic_deleted", "topic not found")
PLACE_CLOSED_WORDS = ("topic_closed",)


class KeptResponsesSession(AiohttpSession):
    """aiogram's aiohttp session, holding on to each `Response[T]` model it parses with.

    aiogram parametrizes `Response[method.__returning__]` for every answer, and pydantic
    caches parametrized generics only weakly: once collected, the next call builds the model
    again (schema and validator), which showed in the webhook profile.
    """

    _responses: ClassVar[dict[Any, type[Response[Any]]]] = {}

    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        returning = method.__returning__
        if returning not in self._responses:
            self._responses[returning] = Response[returning]  # type: ignore[valid-type]
        return super().check_response(bot, method, status_code, content)


def make_bot(token: str, api_url: str, *, timeout: float = 30.0) -> Bot:
    """An aiogram Bot that talks to `api_url` (the real Bot API or a fake one)."""
    session = KeptResponsesSession(api=TelegramAPIServer.from_base(api_url), timeout=timeout)
    return Bot(token=token, session=session)


def build_method(payload: dict[str, Any]) -> TelegramMethod[Any]:
    """The aiogram method object for a payload; PermanentError when it is malformed."""
    if not isinstance(payload, dict):
        raise PermanentError(f"Telegram payload must be an object, got {type(payload).__name__}")
    name = payload.get("method")
    if not isinstance(name, str) or not name:
        raise PermanentError("Telegram payload has no 'method'")
    cls = getattr(methods, name[:1].upper() + name[1:], None)
    if not (isinstance(cls, type) and issubclass(cls, TelegramMethod)):
        raise PermanentError(f"unknown Bot API method {name!r}")
    params = dict(payload.get("params") or {})
    for field, spec in (payload.get("files") or {}).items():
        params[field] = _input_file(field, spec)
    try:
        return cls.model_validate(params)
    except ValidationError as exc:
        raise PermanentError(f"bad parameters for {name}: {exc}") from exc


def _input_file(field: str, spec: Any) -> InputFile:
    if not isinstance(spec, dict):
        raise PermanentError(f"file {field!r} must be an object with data_b64 or path")
    filename = spec.get("filename") or field
    if "data_b64" in spec:
        try:
            data = base64.b64decode(spec["data_b64"], validate=True)
        except (binascii.Error, TypeError) as exc:
            raise PermanentError(f"file {field!r}: data_b64 is not base64") from exc
        return BufferedInputFile(data, filename=filename)
    if "path" in spec:
        return FSInputFile(spec["path"], filename=filename)
    raise PermanentError(f"file {field!r} must carry data_b64 or path")


def map_error(exc: BaseException) -> BridgeError | Ignored:
    """Translate an aiogram/transport error into a bridge error, or `Ignored` ("success").

    The one place where Telegram's words are read: callers branch on the type
    (`PlaceGone`, `PlaceClosed`, `RecipientUnreachable`, `Ignored`...), never on the text.
    """
    if isinstance(exc, BridgeError):
        return exc
    if isinstance(exc, TelegramRetryAfter):
        return RetryAfter(exc.retry_after, exc.message)
    if isinstance(exc, TelegramMigrateToChat):
        return PermanentError(exc.message, code=exc.migrate_to_chat_id)
    if isinstance(exc, TelegramBadRequest):
        return _bad_request(exc.message)
    if isinstance(exc, TelegramForbiddenError):
        return RecipientUnreachable(exc.message, code=403)
    if isinstance(exc, TelegramNotFound):
        return _refused(exc.message, 404)
    if isinstance(exc, TelegramEntityTooLarge):  # a TelegramNetworkError subclass: check first
        return PermanentError(exc.message, code=413)
    if isinstance(exc, TelegramServerError | TelegramNetworkError | ClientDecodeError):
        return TransientError(str(exc))
    if isinstance(exc, TelegramUnauthorizedError | TelegramConflictError):
        # The bot's token or setup is wrong, not this call: keep the row until an admin fixes it.
        return TransientError(str(exc))
    if isinstance(exc, TimeoutError | OSError):
        return TransientError(f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TelegramAPIError):
        return PermanentError(exc.message)
    if isinstance(exc, AiogramError):
        return TransientError(str(exc))
    return TransientError(f"{type(exc).__name__}: {exc}")


def _bad_request(description: str) -> PermanentError | Ignored:
    lowered = description.lower()
    for harmless in Harmless:
        if harmless.value in lowered:
            return Ignored(harmless, description)
    return _refused(description, 400)


def _refused(description: str, code: int) -> PermanentError:
    """A refusal for good: typed when it says the conversation's place is gone or closed."""
    lowered = description.lower()
    if any(words in lowered for words in PLACE_GONE_WORDS):
        return PlaceGone(description, code=code)
    if any(words in lowered for words in PLACE_CLOSED_WORDS):
        return PlaceClosed(description, code=code)
    return PermanentError(description, code=code)


def describe_result(result: Any) -> dict[str, Any]:
    """A JSON result for the row: the raw result plus `message_id`/`message_thread_id` keys."""
    if isinstance(result, BaseModel):
        raw = result.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        out: dict[str, Any] = {"result": raw}
        for key in ("message_id", "message_thread_id"):
            if key in raw:
                out[key] = raw[key]
        return out
    if isinstance(result, list):
        return {"result": [describe_result(r).get("result", r) for r in result]}
    return {"result": result}


#: Where a text too long for one message may be cut, best first: between merged parts, between
#: lines. Neither cuts an HTML tag: merged parts and lines carry only closed tags.
TEXT_CUTS = ("\n\n", "\n")


def split_long_text(payload: Any) -> list[Any]:
    """`payload`, or a `sendMessage` whose text passes `MESSAGE_LIMIT` UTF-16 units as several
    (the buttons on the last); a text that cannot be cut cleanly is left for Telegram to judge."""
    if not isinstance(payload, dict) or payload.get("method") != "sendMessage":
        return [payload]
    params = payload.get("params")
    if not isinstance(params, dict) or not isinstance(params.get("text"), str):
        return [payload]
    text: str = params["text"]
    if tg_length(text) <= MESSAGE_LIMIT:
        return [payload]
    pieces = _cut(text, TEXT_CUTS)
    if pieces is None:
        return [payload]
    out = []
    for number, piece in enumerate(pieces):
        piece_params = {**params, "text": piece}
        if number < len(pieces) - 1:
            piece_params.pop("reply_markup", None)
        out.append({**payload, "params": piece_params})
    return out


def _cut(text: str, separators: tuple[str, ...]) -> list[str] | None:
    """`text` in pieces of at most MESSAGE_LIMIT units, joined greedily at the first separator
    (the rest for pieces still too long); None when some piece cannot be cut small enough."""
    if tg_length(text) <= MESSAGE_LIMIT:
        return [text]
    if not separators:
        return None
    separator, rest = separators[0], separators[1:]
    pieces: list[str] = []
    current = ""
    for segment in text.split(separator):
        candidate = f"{current}{separator}{segment}" if current else segment
        if tg_length(candidate) <= MESSAGE_LIMIT:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if tg_length(segment) <= MESSAGE_LIMIT:
            current = segment
            continue
        smaller = _cut(segment, rest)
        if smaller is None:
            return None
        pieces.extend(smaller[:-1])
        current = smaller[-1]
    if current:
        pieces.append(current)
    return [p for p in pieces if p.strip()]


class TelegramCalls:
    """The outbox `Sender` for Telegram (the operators' desk and Telegram customers)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def deliver(self, item: Any) -> dict[str, Any]:
        """Execute the Bot API call in `item.payload`; raise only bridge.errors.

        A text longer than Telegram's 4,096 UTF-16 units (texts merged by the outbox are
        measured in characters, and an emoji is two units) goes as consecutive messages cut
        between its parts; the result is the first message's, with every `message_ids`."""
        payloads = split_long_text(item.payload)
        if len(payloads) == 1:
            return await self._call(payloads[0])
        results = [await self._call(payload) for payload in payloads]
        first = dict(results[0])
        first["message_ids"] = [r.get("message_id") for r in results]
        return first

    async def _call(self, payload: dict[str, Any]) -> dict[str, Any]:
        method = build_method(payload)
        try:
            result = await self.bot(method)
        except Exception as exc:  # every failure is translated here, in one place
            mapped = map_error(exc)
            if isinstance(mapped, Ignored):
                return {"result": None, "ignored": str(exc)}
            raise mapped from exc
        return describe_result(result)

    async def close(self) -> None:
        """Close the bot's HTTP session."""
        await self.bot.session.close()
