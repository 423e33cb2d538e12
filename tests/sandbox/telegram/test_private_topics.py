"""Topics in a bot's private chats (Bot API 9.3/9.4), as the fake Telegram serves them."""

from __future__ import annotations

from tests.sandbox.telegram.conftest import TOKEN, Served


def _started(served: Served, name: str = "Ann") -> int:
    """A user who started the bot (wrote to it in private); returns their id."""
    user = served.fake.add_user(name)
    served.fake.user_says(user, "/start")
    return user.id


async def test_get_me_tells_whether_topics_are_enabled(served: Served) -> None:
    _, off = await served.post("getMe")
    assert "has_topics_enabled" not in off["result"]
    served.fake.set_topics_enabled(TOKEN, True)
    _, on = await served.post("getMe")
    assert on["result"]["has_topics_enabled"] is True


async def test_bot_with_topics_creates_a_topic_in_a_private_chat(served: Served) -> None:
    served.fake.set_topics_enabled(TOKEN, True)
    ann = _started(served)
    status, body = await served.post("createForumTopic", json={"chat_id": ann, "name": "#1 Ivan"})
    assert status == 200, body
    thread = body["result"]["message_thread_id"]
    assert [t.name for t in served.fake.topics(ann)] == ["#1 Ivan"]
    status, sent = await served.post(
        "sendMessage", json={"chat_id": ann, "message_thread_id": thread, "text": "hello"}
    )
    assert status == 200, sent
    assert sent["result"]["message_thread_id"] == thread
    assert sent["result"]["is_topic_message"] is True
    texts = [m.text for m in served.fake.chat_view(ann, topic=thread) if m.kind == "text"]
    assert texts == ["hello"]


async def test_bot_without_topics_is_refused(served: Served) -> None:
    ann = _started(served)
    status, body = await served.post("createForumTopic", json={"chat_id": ann, "name": "x"})
    assert status == 400
    assert "topics" in body["description"]


async def test_user_who_never_started_the_bot_gets_no_topic(served: Served) -> None:
    served.fake.set_topics_enabled(TOKEN, True)
    stranger = served.fake.add_user("Stranger")
    status, body = await served.post(
        "createForumTopic", json={"chat_id": stranger.id, "name": "x"}
    )
    assert status == 403
    assert "can't initiate" in body["description"]


async def test_unknown_thread_in_a_private_chat_is_refused(served: Served) -> None:
    served.fake.set_topics_enabled(TOKEN, True)
    ann = _started(served)
    status, body = await served.post(
        "sendMessage", json={"chat_id": ann, "message_thread_id": 999, "text": "x"}
    )
    assert status == 400
    assert body["description"].endswith("message thread not found")


async def test_edit_and_delete_a_private_topic_but_close_is_for_supergroups(
    served: Served,
) -> None:
    served.fake.set_topics_enabled(TOKEN, True)
    ann = _started(served)
    _, body = await served.post("createForumTopic", json={"chat_id": ann, "name": "#1 Ivan"})
    thread = body["result"]["message_thread_id"]
    status, _ = await served.post(
        "editForumTopic", json={"chat_id": ann, "message_thread_id": thread, "name": "✅ done"}
    )
    assert status == 200
    assert served.fake.topics(ann)[0].name == "✅ done"
    # closeForumTopic / reopenForumTopic: "in a forum supergroup chat" only (the spec).
    status, body = await served.post(
        "closeForumTopic", json={"chat_id": ann, "message_thread_id": thread}
    )
    assert status == 400
    status, _ = await served.post(
        "deleteForumTopic", json={"chat_id": ann, "message_thread_id": thread}
    )
    assert status == 200
    assert served.fake.topics(ann)[0].deleted


async def test_users_message_in_a_private_topic_arrives_as_a_topic_message(
    served: Served,
) -> None:
    served.fake.set_topics_enabled(TOKEN, True)
    ann = _started(served)
    _, body = await served.post("createForumTopic", json={"chat_id": ann, "name": "#1 Ivan"})
    thread = body["result"]["message_thread_id"]
    user = served.fake.world.users[ann]
    sent = served.fake.user_says(user, "my answer", topic=thread)
    assert sent["message_thread_id"] == thread
    assert sent["is_topic_message"] is True
    _, updates = await served.post("getUpdates", json={"timeout": 0})
    last = updates["result"][-1]["message"]
    assert (last["text"], last["message_thread_id"], last["is_topic_message"]) == (
        "my answer",
        thread,
        True,
    )
