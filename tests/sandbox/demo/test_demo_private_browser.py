"""`talker-bridge demo --mode private` in headless Chromium: Anna presses Accept on the card in
the group, the conversation appears as a topic of her private chat with the bot on the page,
she answers there and the customer receives it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.sandbox.demo.conftest import DemoProcess, demo_process

pytestmark = pytest.mark.browser
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProcess]:
    with demo_process("--time-scale", "20", "--mode", "private") as running:
        yield running


@pytest.fixture
def page(browser, demo: DemoProcess):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(demo.url)
    yield page
    context.close()
    assert errors == []


def test_accept_opens_the_conversation_in_annas_private_chat_on_the_page(page) -> None:
    expect(page.locator("#private-note")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="New", exact=True).click()
    page.get_by_label("New name").fill("Oskar Private")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_label("Message as the customer").fill("Can I change the address?")
    page.get_by_role("button", name="Send as the customer").click()
    thread = page.locator("#customer-thread")
    thread.get_by_text("Can I change the address?").wait_for()

    expect(page.locator("#group-subtitle")).to_contain_text("private mode")
    private = page.get_by_role("region", name="The operator's private chat with the bot")
    expect(private).to_contain_text("Anna")
    card = page.locator("#messages li.msg", has_text="Oskar Private").filter(
        has=page.get_by_role("button", name="Accept")
    )
    card.get_by_role("button", name="Accept").click(timeout=WAIT_MS)

    # No forum topic in the group: the conversation is a topic of Anna's chat with the bot.
    topic = private.locator(".topic-name", has_text="Oskar Private")
    topic.click(timeout=WAIT_MS)
    expect(page.locator("#chat-title")).to_contain_text("Oskar Private")
    expect(page.locator("#chat-subtitle")).to_contain_text("private topic")
    page.locator("#messages", has_text="Can I change the address?").wait_for(timeout=WAIT_MS)
    assert page.locator("#topic-list .topic-name", has_text="Oskar Private").count() == 0

    page.get_by_label("Message as the operator").fill("Yes, tell me the new one")
    page.get_by_role("button", name="Send as the operator").click()
    page.locator("#messages li.msg.mine", has_text="Yes, tell me the new one").wait_for(
        timeout=WAIT_MS
    )
    thread.locator(".bubble.in", has_text="Yes, tell me the new one").wait_for(timeout=WAIT_MS)

    # Boris's private chat has no such topic: the page shows whoever acts.
    page.get_by_role("button", name="Boris").click()
    expect(private).to_contain_text("Boris")
    expect(private.locator(".topic-name", has_text="Oskar Private")).to_have_count(0)
