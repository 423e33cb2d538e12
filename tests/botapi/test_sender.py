"""The Telegram sender: payload → aiogram call over real HTTP, errors mapped in one place."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramMigrateToChat
from aiogram.methods import SendMessage

from botapi.sender import Harmless, Ignored, TelegramCalls, make_bot, map_error
from bridge.errors import (
    PermanentError,
    PlaceClosed,
    PlaceGone,
    RecipientUnreachable,
    RetryAfter,
    TransientError,
)
from sandbox.telegram import tiny_png
from tests.bridge.outbox.fake_telegram import TOKEN, served_telegram


def row(method: str, **params):
    return SimpleNamespace(id=1, payload={"method": method, "params": params})


@pytest.fixture
async def tg():
    async with served_telegram(speed=1.0) as served:
        calls = TelegramCalls(make_bot(TOKEN, served.api_url, timeout=5))
        yield served, calls
        await calls.close()


async def test_send_message_returns_the_message_id(tg) -> None:
    served, calls = tg
    result = await calls.deliver(row("sendMessage", chat_id=served.group, text="hello"))
    assert isinstance(result["message_id"], int)
    assert served.fake.calls("sendMessage")[0].params["text"] == "hello"


async def test_photo_bytes_are_uploaded(tg) -> None:
    served, calls = tg
    item = row("sendPhoto", chat_id=served.group, caption="avatar")
    item.payload["files"] = {
        "photo": {"data_b64": base64.b64encode(tiny_png()).decode(), "filename": "a.png"}
    }
    result = await calls.deliver(item)
    assert "message_id" in result


async def test_server_error_is_transient(tg) -> None:
    served, calls = tg
    served.fake.fail_next(1, status=500)
    with pytest.raises(TransientError):
        await calls.deliver(row("sendMessage", chat_id=served.group, text="x"))


async def test_flood_control_is_retry_after_with_telegrams_seconds(tg) -> None:
    served, calls = tg
    served.fake.throttle_next(1, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await calls.deliver(row("sendMessage", chat_id=served.group, text="x"))
    assert caught.value.seconds == 7


async def test_blocked_bot_is_recipient_unreachable(tg) -> None:
    served, calls = tg
    served.fake.fail_next(1, status=403, description="Forbidden: bot was blocked by the user")
    with pytest.raises(RecipientUnreachable, match="blocked by the user"):
        await calls.deliver(row("sendMessage", chat_id=served.group, text="x"))


async def test_bad_request_is_permanent_but_not_modified_is_success(tg) -> None:
    served, calls = tg
    served.fake.fail_next(1, status=400, description="Bad Request: chat not found")
    with pytest.raises(PermanentError, match="chat not found"):
        await calls.deliver(row("sendMessage", chat_id=served.group, text="x"))
    served.fake.fail_next(
        1, status=400, description="Bad Request: message is not modified: same content"
    )
    result = await calls.deliver(row("sendMessage", chat_id=served.group, text="x"))
    assert "not modified" in result["ignored"]


async def test_unreachable_api_is_transient() -> None:
    calls = TelegramCalls(make_bot(TOKEN, "http://127.0.0.1:9", timeout=2))
    try:
        with pytest.raises(TransientError):
            await calls.deliver(row("sendMessage", chat_id=1, text="x"))
    finally:
        await calls.close()


async def test_malformed_payload_is_permanent() -> None:
    calls = TelegramCalls(make_bot(TOKEN, "http://127.0.0.1:9"))
    try:
        with pytest.raises(PermanentError, match="unknown Bot API method"):
            await calls.deliver(row("sendTelepathy", chat_id=1))
        with pytest.raises(PermanentError, match="bad parameters"):
            await calls.deliver(row("sendMessage", chat_id=1))
    finally:
        await calls.close()


def test_migrated_group_is_permanent_with_the_new_id() -> None:
    exc = TelegramMigrateToChat(SendMessage(chat_id=-5, text="x"), "migrated", -1001234)
    mapped = map_error(exc)
    assert isinstance(mapped, PermanentError) and mapped.code == -1001234


def bad_request(description: str) -> TelegramBadRequest:
    return TelegramBadRequest(SendMessage(chat_id=-5, text="x"), description)


@pytest.mark.parametrize(
    "description",
    [
        "Bad Request: message thread not found",
        "Bad Request: TOPIC_DELETED",
        "Bad Request: topic not found",
    ],
)
def test_a_deleted_topic_is_place_gone(description: str) -> None:
    mapped = map_error(bad_request(description))
    assert isinstance(mapped, PlaceGone) and mapped.reason == description and mapped.code == 400


def test_a_closed_topic_is_place_closed() -> None:
    mapped = map_error(bad_request("Bad Request: TOPIC_CLOSED"))
    assert isinstance(mapped, PlaceClosed) and not isinstance(mapped, PlaceGone)


def test_other_bad_requests_are_plain_permanent_errors() -> None:
    mapped = map_error(bad_request("Bad Request: chat not found"))
    assert type(mapped) is PermanentError


@pytest.mark.parametrize(
    ("description", "why"),
    [
        ("Bad Request: message is not modified: same content", Harmless.NOT_MODIFIED),
        ("Bad Request: query is too old and response timeout expired", Harmless.QUERY_TOO_OLD),
        ("Bad Request: query ID is invalid", Harmless.QUERY_ID_INVALID),
    ],
)
def test_harmless_refusals_are_a_typed_ignored_outcome(description: str, why: Harmless) -> None:
    mapped = map_error(bad_request(description))
    assert mapped == Ignored(why, description)
