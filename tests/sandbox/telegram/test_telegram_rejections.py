"""The fake rejects what Telegram rejects, with Telegram's error envelope (table-driven)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.telegram.conftest import TOKEN, Served

CASES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("unknown method", "sendTelepathy", {"chat_id": 1}, 404, "Not Found"),
    ("missing chat_id", "sendMessage", {"text": "hi"}, 400, "Bad Request: chat_id is empty"),
    (
        "missing text",
        "sendMessage",
        {"chat_id": "{user}"},
        400,
        "Bad Request: message text is empty",
    ),
    (
        "unknown parameter",
        "sendMessage",
        {"chat_id": "{user}", "text": "hi", "colour": "red"},
        400,
        'Bad Request: unknown parameter "colour"',
    ),
    (
        "wrong type",
        "sendMessage",
        {"chat_id": "{user}", "text": "hi", "message_thread_id": "seven"},
        400,
        'Bad Request: field "message_thread_id" must be Integer',
    ),
    (
        "text 4097",
        "sendMessage",
        {"chat_id": "{user}", "text": "x" * 4097},
        400,
        "Bad Request: message is too long",
    ),
    (
        "caption 1025",
        "sendPhoto",
        {"chat_id": "{user}", "photo": "{photo}", "caption": "c" * 1025},
        400,
        "Bad Request: message caption is too long",
    ),
    (
        "callback_data 65 bytes",
        "sendMessage",
        {
            "chat_id": "{user}",
            "text": "hi",
            "reply_markup": {"inline_keyboard": [[{"text": "b", "callback_data": "é" * 33}]]},
        },
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    ),
    (
        "topic name 129",
        "createForumTopic",
        {"chat_id": "{forum}", "name": "n" * 129},
        400,
        "Bad Request: TOPIC_NAME_INVALID",
    ),
    (
        "callback answer 201",
        "answerCallbackQuery",
        {"callback_query_id": "{query}", "text": "t" * 201},
        400,
        "Bad Request: MESSAGE_TOO_LONG",
    ),
    (
        "unbalanced HTML",
        "sendMessage",
        {"chat_id": "{user}", "text": "<b>bold", "parse_mode": "HTML"},
        400,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ),
    (
        "unsupported HTML tag",
        "sendMessage",
        {"chat_id": "{user}", "text": "<blink>x</blink>", "parse_mode": "HTML"},
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "blink" at byte offset 0',
    ),
    (
        "thread not found",
        "sendMessage",
        {"chat_id": "{forum}", "text": "hi", "message_thread_id": 999},
        400,
        "Bad Request: message thread not found",
    ),
    (
        "chat not found",
        "sendMessage",
        {"chat_id": -42, "text": "hi"},
        400,
        "Bad Request: chat not found",
    ),
    (
        "edit of a missing message",
        "editMessageText",
        {"chat_id": "{user}", "message_id": 777, "text": "x"},
        400,
        "Bad Request: message to edit not found",
    ),
    (
        "wrong file_id",
        "sendPhoto",
        {"chat_id": "{user}", "photo": "nope"},
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    ),
    (
        "bad topic colour",
        "createForumTopic",
        {"chat_id": "{forum}", "name": "a", "icon_color": 1},
        400,
        "Bad Request: TOPIC_ICON_COLOR_INVALID",
    ),
    ("wrong token", "getMe", {}, 401, "Unauthorized"),
]


def _fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return names.get(value[1:-1], value)
    return value


@pytest.mark.parametrize(
    ("method", "params", "status", "description"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
async def test_rejects_like_telegram_with_its_error_shape(
    served: Served, method: str, params: dict[str, Any], status: int, description: str
) -> None:
    fake = served.fake
    user = fake.add_user("Ann")
    fake.user_says(user, "hello")
    forum = fake.create_forum(members=[user])
    photo = fake.user_sends_photo(user)["photo"][0]["file_id"]
    sent = await fake.call(
        fake.world.bots[TOKEN],
        "sendMessage",
        {
            "chat_id": user.id,
            "text": "pick",
            "reply_markup": {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]},
        },
    )
    query = fake.press(user, user.id, sent["message_id"], "ok")
    names = {"user": user.id, "forum": forum, "photo": photo, "query": query}
    body = {k: _fill(v, names) for k, v in params.items()}
    token = "999:WRONG" if status == 401 else TOKEN

    got_status, payload = await served.post(method, token, json=body)

    assert got_status == status
    assert payload["ok"] is False
    assert payload["error_code"] == status
    assert payload["description"].startswith(description)
    assert set(payload) <= {"ok", "error_code", "description", "parameters"}
    assert fake.calls()[-1].status == status


async def test_the_same_checks_apply_to_form_and_query_string_calls(served: Served) -> None:
    user = served.fake.add_user("Bo")
    served.fake.user_says(user, "hi")

    form_status, form = await served.post(
        "sendMessage", data={"chat_id": str(user.id), "text": "x" * 4097}
    )
    async with served.http.get(
        served.url("sendMessage"), params={"chat_id": str(user.id), "text": "via GET"}
    ) as resp:
        get_status, got = resp.status, await resp.json()

    assert (form_status, form["description"]) == (400, "Bad Request: message is too long")
    assert get_status == 200 and got["result"]["text"] == "via GET"


async def test_a_method_outside_the_fake_is_refused_explicitly(served: Served) -> None:
    status, payload = await served.post(
        "sendPoll", json={"chat_id": 1, "question": "q", "options": [{"text": "a"}]}
    )
    assert status == 400
    assert "not supported by the fake" in payload["description"]


async def test_blocked_user_answers_forbidden(served: Served) -> None:
    user = served.fake.add_user("Cy")
    served.fake.user_says(user, "hi")
    served.fake.block(user)

    status, payload = await served.post("sendMessage", json={"chat_id": user.id, "text": "hi"})

    assert (status, payload["description"]) == (403, "Forbidden: bot was blocked by the user")
