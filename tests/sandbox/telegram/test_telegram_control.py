"""The control API over HTTP drives the fake the same way the Python methods do."""

from __future__ import annotations

import asyncio
import base64

import aiohttp

from sandbox.telegram import tiny_png
from tests.sandbox.telegram.conftest import Served


async def control(served: Served, method: str, path: str, **kwargs) -> tuple[int, object]:
    async with served.http.request(method, f"{served.base_url}/_control{path}", **kwargs) as r:
        return r.status, await r.json()


async def test_control_api_round_trip(served: Served) -> None:
    _, user = await control(served, "POST", "/users", json={"first_name": "Ann"})
    _, operator = await control(served, "POST", "/users", json={"first_name": "Olga"})
    _, group = await control(
        served,
        "POST",
        "/groups",
        json={"title": "Ops", "forum": True, "member_ids": [operator["id"]]},
    )
    forum = group["chat_id"]
    _, said = await control(
        served, "POST", "/messages", json={"user_id": user["id"], "text": "hello"}
    )
    _, photo = await control(
        served,
        "POST",
        "/messages",
        json={
            "user_id": user["id"],
            "kind": "photo",
            "caption": "look",
            "data_base64": base64.b64encode(tiny_png()).decode(),
        },
    )
    _, card = await served.post(
        "sendMessage",
        json={
            "chat_id": forum,
            "text": "card",
            "reply_markup": {"inline_keyboard": [[{"text": "Accept", "callback_data": "a"}]]},
        },
    )
    _, pressed = await control(
        served,
        "POST",
        "/presses",
        json={
            "user_id": operator["id"],
            "chat_id": forum,
            "message_id": card["result"]["message_id"],
            "data": "a",
        },
    )
    await served.post(
        "answerCallbackQuery",
        json={"callback_query_id": pressed["callback_query_id"], "text": "Yours"},
    )
    _, answer = await control(served, "GET", f"/callbacks/{pressed['callback_query_id']}")
    _, chat = await control(served, "GET", f"/chats/{forum}")
    _, calls = await control(served, "GET", "/calls?method=answerCallbackQuery")
    await control(served, "POST", "/faults", json={"kind": "error", "n": 1, "status": 502})
    status, _ = await served.post("getMe")
    bad_status, bad = await control(served, "POST", "/messages", json={"user_id": 1})

    assert said["text"] == "hello" and photo["caption"] == "look"
    assert answer["answer"]["text"] == "Yours"
    assert chat["messages"][-1]["buttons"][0][0]["callback_data"] == "a"
    assert [c["status"] for c in calls] == [200]
    assert status == 502
    assert bad_status == 400 and "unknown user" in bad["error"]


async def test_hang_fault_outlasts_the_client_timeout_then_takes_effect(served: Served) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "hi")
    served.fake.hang_next(1, seconds=0.5, method="sendMessage")

    try:
        await served.http.post(
            served.url("sendMessage"),
            json={"chat_id": user.id, "text": "slow"},
            timeout=aiohttp.ClientTimeout(total=0.1),
        )
        timed_out = False
    except TimeoutError:
        timed_out = True
    await asyncio.sleep(0.6)

    assert timed_out
    assert served.fake.chat_view(user.id)[-1].text == "slow"


async def test_user_edits_and_replies_in_topics(served: Served) -> None:
    fake = served.fake
    operator = fake.add_user("Olga")
    forum = fake.create_forum(members=[operator])
    _, topic = await served.post("createForumTopic", json={"chat_id": forum, "name": "Ann"})
    thread = topic["result"]["message_thread_id"]
    note = fake.user_says(operator, "first", chat_id=forum, topic=thread)
    reply = fake.user_says(operator, "second", chat_id=forum, reply_to=note["message_id"])
    fake.user_edits(operator, forum, note["message_id"], "first (edited)")

    view = fake.chat_view(forum, topic=thread)

    assert [v.text for v in view if v.kind == "text"] == ["first (edited)", "second"]
    assert reply["message_thread_id"] == thread and reply["reply_to_message"]["text"] == "first"
    assert view[1].edited and view[-1].reply_to == note["message_id"]
