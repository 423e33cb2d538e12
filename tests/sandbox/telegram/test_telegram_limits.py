"""Published sending limits answer 429 with retry_after; time_scale multiplies them."""

from __future__ import annotations

import pytest

from sandbox.telegram import FakeTelegram, ManualClock, TelegramLimits
from sandbox.telegram.errors import ApiError
from tests.sandbox.telegram.conftest import TOKEN, Served


async def test_group_limit_answers_429_with_whole_second_retry_after(served: Served) -> None:
    forum = served.fake.create_forum()
    statuses = []
    for i in range(21):
        status, payload = await served.post("sendMessage", json={"chat_id": forum, "text": f"{i}"})
        statuses.append(status)
        served.clock.advance(1.0)  # ~1/s keeps the per-chat bucket happy; the group cap bites

    assert statuses[:20] == [200] * 20
    assert statuses[20] == 429
    assert payload["description"] == "Too Many Requests: retry after 40"
    assert payload["parameters"] == {"retry_after": 40}
    assert served.fake.too_many_requests.group == 1


async def _posts_accepted(scale: float, posts: int) -> int:
    clock = ManualClock()
    fake = FakeTelegram(limits=TelegramLimits(time_scale=scale), clock=clock)
    bot = fake.add_bot(TOKEN)
    forum = fake.create_forum()
    accepted = 0
    for i in range(posts):
        try:
            await fake.call(
                fake.world.bots[TOKEN], "sendMessage", {"chat_id": forum, "text": f"{i}"}
            )
            accepted += 1
        except ApiError as error:
            assert error.status == 429
        clock.advance(0.5)
    assert bot.is_bot
    return accepted


async def test_time_scale_multiplies_the_group_budget() -> None:
    # 60 posts every 0.5 s = 30 s: 20 a minute allows 20; at scale 10 all 60 go through.
    assert await _posts_accepted(1, 60) == 20
    assert await _posts_accepted(10, 60) == 60


async def test_private_chat_tolerates_a_short_burst_then_paces_at_one_a_second(
    served: Served,
) -> None:
    user = served.fake.add_user("Ann")
    served.fake.user_says(user, "hi")

    burst = [
        (await served.post("sendMessage", json={"chat_id": user.id, "text": "x"}))[0]
        for _ in range(4)
    ]
    served.clock.advance(1.0)
    after_a_second = (await served.post("sendMessage", json={"chat_id": user.id, "text": "y"}))[0]

    assert burst == [200, 200, 200, 429]
    assert after_a_second == 200
    assert served.fake.too_many_requests.chat == 1


async def test_global_limit_spans_chats() -> None:
    clock = ManualClock()
    fake = FakeTelegram(limits=TelegramLimits(global_per_second=5), clock=clock)
    fake.add_bot(TOKEN)
    bot = fake.world.bots[TOKEN]
    users = [fake.add_user(f"U{i}") for i in range(6)]
    for user in users:
        fake.user_says(user, "hi")
    for user in users[:5]:
        await fake.call(bot, "sendMessage", {"chat_id": user.id, "text": "x"})

    with pytest.raises(ApiError) as caught:
        await fake.call(bot, "sendMessage", {"chat_id": users[5].id, "text": "x"})

    assert caught.value.status == 429 and caught.value.parameters == {"retry_after": 1}
    assert fake.too_many_requests.global_ == 1


async def test_reads_and_callback_answers_do_not_count(served: Served) -> None:
    forum = served.fake.create_forum()
    for _ in range(30):
        status, _ = await served.post("getChat", json={"chat_id": forum})
        assert status == 200
    assert served.fake.too_many_requests.total == 0


def test_limits_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="time_scale"):
        TelegramLimits(time_scale=0)
