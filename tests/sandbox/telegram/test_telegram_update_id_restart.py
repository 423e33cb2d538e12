"""The fake restarts a bot's update ids as Telegram does after a week without updates: the
next id is lower than before (random, or chosen through the control API), so an offset that
a bot kept from before confirms — drops — the new updates, as the spec says of `offset`."""

from __future__ import annotations

from tests.sandbox.telegram.conftest import TOKEN, Served

BOT_ID = int(TOKEN.split(":", 1)[0])


async def test_restarted_ids_are_lower_and_a_stale_offset_drops_them(served: Served) -> None:
    user = served.fake.add_user("Ann")
    for text in ("one", "two", "three", "four"):
        served.fake.user_says(user, text)
    _, before = await served.post("getUpdates")
    last = before["result"][-1]["update_id"]
    await served.post("getUpdates", json={"offset": last + 1})  # all confirmed

    async with served.http.post(
        f"{served.base_url}/_control/update-ids", json={"bot_id": BOT_ID}
    ) as response:
        assert response.status == 200
        restarted = (await response.json())["next_update_id"]
    assert 1 <= restarted <= last
    served.fake.user_says(user, "after a week")
    _, stale = await served.post("getUpdates", json={"offset": last + 1})
    assert stale["result"] == []  # the bot's stored offset confirmed the new update away

    served.fake.restart_update_ids(BOT_ID, 2)
    served.fake.user_says(user, "again after a week")
    _, fresh = await served.post("getUpdates")  # no offset: the unconfirmed updates
    assert [(u["update_id"], u["message"]["text"]) for u in fresh["result"]] == [
        (2, "again after a week")
    ]
