"""The demo page in headless Chromium: the flows a newcomer tries, end to end through the
real bridge — a customer writes, the card appears, Anna accepts and replies, the customer (or
the site visitor) sees the reply."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.sandbox.demo.conftest import DemoProcess, demo_process

pytestmark = pytest.mark.browser
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProcess]:
    with demo_process("--time-scale", "20") as running:
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


def _accept_and_open_topic(page, name: str) -> None:
    card = page.locator("#messages li.msg", has_text=name).filter(
        has=page.get_by_role("button", name="Accept")
    )
    card.get_by_role("button", name="Accept").click(timeout=WAIT_MS)
    page.locator("#topic-list .topic-name", has_text=name).click(timeout=WAIT_MS)
    expect(page.locator("#chat-title")).to_contain_text(name)


def test_telegram_customer_is_answered_by_anna(page) -> None:
    page.get_by_role("button", name="New", exact=True).click()
    page.get_by_label("New name").fill("Petra Browser")
    page.get_by_role("button", name="Create", exact=True).click()
    page.get_by_label("Message as the customer").fill("My parcel <b>is late</b>")
    page.get_by_role("button", name="Send as the customer").click()
    thread = page.locator("#customer-thread")
    thread.get_by_text("My parcel <b>is late</b>").wait_for()

    card = page.locator("#messages li.msg", has_text="Petra Browser")
    card.first.wait_for(timeout=WAIT_MS)
    # The customer's markup is shown as text; the bot's formatting becomes real elements.
    assert "My parcel <b>is late</b>" in card.first.inner_text()
    assert card.first.locator("b", has_text="is late").count() == 0
    assert card.first.locator("b", has_text="Petra Browser").count() == 1
    avatar = card.first.locator("img.photo")
    assert avatar.evaluate("img => img.complete && img.naturalWidth > 0")

    _accept_and_open_topic(page, "Petra Browser")
    page.get_by_label("Message as the operator").fill("Hello Petra, it arrives today")
    page.get_by_role("button", name="Send as the operator").click()
    thread.locator(".bubble.in", has_text="Hello Petra, it arrives today").wait_for(
        timeout=WAIT_MS
    )


def test_pinned_counters_and_operator_switch_are_shown(page) -> None:
    page.locator("#pinned").wait_for(timeout=WAIT_MS)
    assert re.search(r"\d", page.locator("#pinned").inner_text())
    boris = page.get_by_role("button", name="Boris")
    boris.click()
    expect(boris).to_have_attribute("aria-pressed", "true")


def test_site_visitor_is_answered_in_the_widget(page, demo: DemoProcess) -> None:
    with urllib.request.urlopen(f"{demo.base_url}/demo/api/state", timeout=10) as response:
        site = json.load(response)["channels"]["site:demo"]
    # The demo wires every channel: a widget that is not running is broken wiring, not a skip.
    assert site["state"] == "running", f"the site widget is not running: {site['detail']}"
    page.get_by_role("button", name="Open chat").click(timeout=WAIT_MS)
    page.get_by_label("Name", exact=True).last.fill("Vera Visitor")
    page.get_by_label("Message", exact=True).fill("Do you ship to Riga?")
    page.get_by_role("button", name="Send", exact=True).click()
    _accept_and_open_topic(page, "Vera Visitor")
    page.get_by_label("Message as the operator").fill("Yes, in two days")
    page.get_by_role("button", name="Send as the operator").click()
    page.get_by_role("dialog").get_by_text("Yes, in two days").wait_for(timeout=WAIT_MS)


def test_site_visitor_rates_the_help_with_stars_after_close(page, demo: DemoProcess) -> None:
    """The demo asks for ratings: after /close the widget shows five star buttons; the visitor
    presses "Rate 4 of 5", the buttons are spent, and the operators see ★★★★☆ in the topic."""
    page.get_by_role("button", name="Open chat").click(timeout=WAIT_MS)
    page.get_by_label("Name", exact=True).last.fill("Rita Rater")
    page.get_by_label("Message", exact=True).fill("Thanks for the help yesterday")
    page.get_by_role("button", name="Send", exact=True).click()
    _accept_and_open_topic(page, "Rita Rater")
    page.get_by_label("Message as the operator").fill("Glad to help!")
    page.get_by_role("button", name="Send as the operator").click()
    widget = page.get_by_role("dialog")
    widget.get_by_text("Glad to help!").wait_for(timeout=WAIT_MS)
    page.get_by_label("Message as the operator").fill("/close")
    page.get_by_role("button", name="Send as the operator").click()
    widget.get_by_text("Please rate our help from 1 to 5").wait_for(timeout=WAIT_MS)
    stars = widget.get_by_role("group").get_by_role("button")
    expect(stars).to_have_count(5, timeout=WAIT_MS)
    widget.get_by_role("button", name="Rate 4 of 5").click()
    expect(widget.get_by_role("button", name="Rate 4 of 5")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(widget.get_by_role("button", name="Rate 1 of 5")).to_be_disabled()
    widget.get_by_text("Thank you for your rating").wait_for(timeout=WAIT_MS)
    page.locator("#messages", has_text="★★★★☆ 4/5").wait_for(timeout=WAIT_MS)
