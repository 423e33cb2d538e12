"""`talker-bridge doctor` against the fake Viber and Facebook: tokens, webhook, subscription."""

from __future__ import annotations

from pathlib import Path

from tests.doctor.fakes import doctor_of, failures, running_fakes

FB_FIELDS = "messages, messaging_postbacks, message_deliveries, message_reads"


async def test_a_viber_token_viber_refuses_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.viber_token = "someone-elses-viber-token"
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  Viber: the token does not work (get_account_info: invalidAuthToken) — fix: "
        "copy the token from the Viber bot's admin panel (partners.viber.com) into "
        "channels.viber.token"
    ]


async def test_a_viber_webhook_that_is_not_ours_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.viber.webhook_url = ""
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        f"FAIL  Viber: the webhook is not set, not {fakes.public_url}/webhooks/viber — fix: "
        "run `talker-bridge set-webhooks` while the bridge is running"
    ]


async def test_a_page_token_facebook_refuses_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.fb_page_token = "someone-elses-page-token"
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  Facebook: the page token does not work (GET /me: Invalid OAuth access token - "
        "Cannot parse access token) — fix: Meta's console → Messenger → Settings → Access "
        "tokens → Generate token for the Page, put it in channels.facebook.page_token"
    ]


async def test_an_app_not_subscribed_to_the_page_is_reported(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.facebook.subscribed_fields = None
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  Facebook: the app is not subscribed to the Page — fix: Meta's console → "
        f"Messenger → Webhooks → Add subscriptions for the Page: {FB_FIELDS}"
    ]


async def test_missing_webhook_fields_are_named(tmp_path: Path) -> None:
    async with running_fakes() as fakes:
        fakes.facebook.subscribed_fields = ("messages", "message_reads")
        code, lines = await doctor_of(fakes, tmp_path)
    assert code == 1
    assert failures(lines) == [
        "FAIL  Facebook: the Page's webhook fields miss messaging_postbacks, "
        "message_deliveries — fix: Meta's console → Messenger → Webhooks → the Page → Edit → "
        "turn on messaging_postbacks, message_deliveries"
    ]
