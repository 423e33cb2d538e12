"""`talker-bridge doctor` against the fake Telegram: OK when set up, the fix when not."""

from __future__ import annotations

from pathlib import Path

from tests.doctor.fakes import BOT_ID, TOKEN, Fakes, doctor_of, failures, run_doctor, running_fakes


async def test_a_working_installation_passes_every_check(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        code, lines, stderr = await run_doctor(fakes.write_config(tmp_path / "config.yaml"))
    assert code == 0, "\n".join(lines) + stderr
    assert lines and all(line.startswith("OK    ") for line in lines), lines
    print("\n".join(lines))


async def test_a_token_telegram_refuses_is_the_only_failure(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.token = "4343:not-a-registered-bot"
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert not [line for line in lines if line.startswith("OK    Telegram")]
    assert failures(lines) == [
        "FAIL  Telegram: the token does not work (getMe: Unauthorized) — fix: copy the bot's "
        "token from @BotFather into telegram.token"
    ]


async def test_privacy_mode_on_is_reported_with_the_botfather_steps(tmp_path: Path) -> None:
    async with running_fakes(lambda fakes: fakes.telegram.set_privacy(TOKEN, True)) as fakes:
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  Telegram: privacy mode is on, @doctor_bot sees only commands and replies to it "
        "— fix: @BotFather → /setprivacy → @doctor_bot → Disable, then remove the bot from "
        "each group and add it again"
    ]


async def test_a_bot_that_is_not_an_administrator_is_told_which_rights_to_give(
    tmp_path: Path,
) -> None:
    def breaking(fakes: Fakes) -> None:
        fakes.telegram.demote(fakes.telegram.world.users[BOT_ID], fakes.support)

    async with running_fakes(breaking) as fakes:
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Telegram: group support ({fakes.support}): the bot is not an administrator "
        "(status member) — fix: make @doctor_bot an administrator with the rights Manage "
        "topics, Pin messages, Delete messages"
    ]


async def test_missing_administrator_rights_are_named(tmp_path: Path) -> None:
    def breaking(fakes: Fakes) -> None:
        bot = fakes.telegram.world.users[BOT_ID]
        fakes.telegram.set_admin_rights(
            bot, fakes.support, can_manage_topics=False, can_delete_messages=False
        )
        fakes.telegram.set_admin_rights(bot, fakes.vip, can_pin_messages=False)

    async with running_fakes(breaking) as fakes:
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Telegram: group support ({fakes.support}): the bot may not Manage topics, "
        "Delete messages — fix: group settings → Administrators → @doctor_bot → turn on "
        "Manage topics, Delete messages",
        f"FAIL  Telegram: group vip ({fakes.vip}): the bot may not Pin messages — fix: group "
        "settings → Administrators → @doctor_bot → turn on Pin messages",
    ]


async def test_a_topics_group_without_topics_is_reported(tmp_path: Path) -> None:
    async with running_fakes(
        lambda fakes: fakes.telegram.set_forum(fakes.support, False)
    ) as fakes:
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Telegram: group support ({fakes.support}): mode: topics needs a forum, the "
        "group has no topics — fix: group settings → Topics → on (or set mode: replies for "
        "this group)"
    ]


async def test_private_mode_without_threaded_mode_is_reported(tmp_path: Path) -> None:
    async with running_fakes(lambda f: f.telegram.set_topics_enabled(TOKEN, False)) as fakes:
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Telegram: group vip ({fakes.vip}): mode: private needs threaded mode, it is "
        "off for @doctor_bot — fix: @BotFather → @doctor_bot → Bot Settings → Threaded mode → on"
    ]


async def test_an_operator_who_left_the_group_is_reported(tmp_path: Path) -> None:
    async with running_fakes(
        lambda fakes: fakes.telegram.leave(fakes.operator, fakes.support)
    ) as fakes:
        code, lines = await doctor_of(fakes, tmp_path)
    operator = fakes.operator.id
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Telegram: group support ({fakes.support}): operator {operator} is not a "
        f"member — fix: add user {operator} to the group, or remove them from "
        "groups.support.operators"
    ]


async def test_a_webhook_pointing_elsewhere_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        await fakes.bot_api("setWebhook", url="https://old.example.com/hook")
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    config = tmp_path / "config.yaml"
    assert failures(lines) == [
        f"FAIL  Telegram: the webhook is https://old.example.com/hook, not {fakes.webhook_url} "
        f"— fix: run `talker-bridge set-webhooks -c {config}`"
    ]


async def test_a_webhook_whose_last_delivery_failed_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.telegram.webhook_failed(BOT_ID, "Connection refused")
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  Telegram: the last webhook delivery failed: Connection refused — fix: make "
        f"{fakes.webhook_url} reachable from the internet (is the bridge running? the proxy?)"
    ]


async def test_a_hundred_waiting_updates_are_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        await fakes.bot_api("deleteWebhook")  # they wait while nothing takes them
        for n in range(100):
            fakes.telegram.user_says(fakes.operator, f"hello {n}", chat_id=fakes.support)
        await fakes.bot_api("setWebhook", url=fakes.webhook_url)
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert (
        "FAIL  Telegram: 100 updates wait for the bridge — fix: make "
        f"{fakes.webhook_url} reachable and the bridge running; they are delivered once it "
        "answers"
    ) in lines


async def test_polling_with_a_webhook_still_set_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.updates = "polling"
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Telegram: updates: polling, but a webhook is set ({fakes.webhook_url}) — fix: "
        "run `talker-bridge run` (it removes the webhook) or call deleteWebhook"
    ]


async def test_polling_without_a_webhook_passes(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.updates = "polling"
        await fakes.bot_api("deleteWebhook")
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 0, lines
    assert "OK    Telegram: updates: polling, no webhook set" in lines


def test_a_bad_config_exits_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "config.yaml"
    path.write_text("telegram: {token: 'nope'}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "app", "doctor", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "telegram.token" in result.stderr


async def test_an_unreachable_bot_api_is_told_apart_from_a_bad_token(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        path = fakes.write_config(tmp_path / "config.yaml")
    # The fakes are gone: nothing answers at telegram.api_url any more.
    code, lines, stderr = await run_doctor(path)
    assert code == 1, stderr
    telegram = [line for line in lines if "Telegram" in line]
    assert len(telegram) == 1
    assert telegram[0].startswith(f"FAIL  Telegram: no answer from {fakes.base_url}/telegram (")
    assert telegram[0].endswith(
        "— fix: check telegram.api_url and that this machine reaches it (proxy, firewall)"
    )
