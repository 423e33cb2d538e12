"""The demo page as a visitor sees it (issue 17), in headless Chromium: the page never grows, the
"New" form toggles, an Accept tells the group's pace, a card's link opens its topic here, one
bot name everywhere, 24-hour times in the widget, a guest's grey topic icon, and a favicon."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from bridge.core.counters import dashboard_interval
from config.schema import GroupConfig, TelegramLimits
from tests.sandbox.demo.conftest import DemoProcess, demo_process

pytestmark = pytest.mark.browser
WAIT_MS = 30_000
TIME_SCALE = 20
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
GUEST_GREY = "rgb(107, 114, 128)"  # bridge/avatars/palette.py GUEST_GREY, #6B7280


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoProcess]:
    with demo_process("--time-scale", str(TIME_SCALE)) as running:
        yield running


@pytest.fixture
def open_page(browser, demo: DemoProcess):
    """`open_page(viewport)`: the demo page in a new context; no script errors, no 404."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_page(viewport: dict[str, int] = DESKTOP):
        context = browser.new_context(viewport=viewport, locale="en-US")  # a 12-hour clock
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda r: errors.append(f"{r.status} {r.url}") if r.status == 404 else None,
        )
        page.goto(demo.url)
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert errors == []


def _state(demo: DemoProcess) -> dict[str, Any]:
    with urllib.request.urlopen(f"{demo.base_url}/demo/api/state", timeout=10) as response:
        return json.load(response)


def _customer_writes(page, demo: DemoProcess, name: str, text: str) -> None:
    """A new Telegram customer `name` writes `text` (through the demo's API)."""
    created = page.request.post(
        f"{demo.base_url}/demo/api/customers", data={"platform": "telegram", "name": name}
    )
    assert created.ok, created.text()
    customer = created.json()["id"]
    said = page.request.post(
        f"{demo.base_url}/demo/api/customers/telegram/{customer}/messages", data={"text": text}
    )
    assert said.ok, said.text()


def _accept(page, name: str) -> None:
    card = page.locator("#messages li.msg", has_text=name).filter(
        has=page.get_by_role("button", name="Accept")
    )
    card.get_by_role("button", name="Accept").click(timeout=WAIT_MS)


def _topic(page, name: str | re.Pattern[str]):
    """The group's topic named `name` in the topic list."""
    return page.locator("#topic-list .topic").filter(
        has=page.locator(".topic-name", has_text=name)
    )


def _layout(page) -> dict[str, Any]:
    return page.evaluate(
        """() => {
          const box = (id) => document.getElementById(id).getBoundingClientRect();
          const list = document.getElementById("messages");
          return {
            document: document.documentElement.scrollHeight, viewport: window.innerHeight,
            pageScroll: document.scrollingElement.scrollTop,
            list: list.scrollHeight, listBox: list.clientHeight, listTop: box("messages").top,
            pinnedTop: box("pinned").top, pinnedBottom: box("pinned").bottom,
            chatTop: box("chat-title").top,
          };
        }"""
    )


def test_new_shows_and_hides_the_new_customer_form(open_page) -> None:
    page = open_page()
    form = page.locator("#new-customer-form")
    expect(form).to_be_hidden()
    page.get_by_role("button", name="New", exact=True).click()
    expect(form).to_be_visible()
    expect(page.get_by_label("New name")).to_be_focused()
    page.get_by_role("button", name="New", exact=True).click()
    expect(form).to_be_hidden()


def test_accept_tells_the_pace_and_the_card_link_opens_the_topic(
    open_page, demo: DemoProcess
) -> None:
    """After Accept one line tells the group's pace and how often the pinned counters refresh
    (the bridge's own interval at this time scale); the card's "Open conversation" link then
    shows the topic in the demo instead of leaving for t.me."""
    page = open_page()
    per_minute = TelegramLimits().per_group_per_minute * TIME_SCALE
    every = dashboard_interval(per_minute, GroupConfig(chat_id=-1).dashboard_budget_share)
    assert _state(demo)["pace"] == {"per_minute": per_minute, "counters_every": every}
    note = page.locator("#pace-note")
    expect(note).to_be_hidden()

    _customer_writes(page, demo, "Lena Linkova", "Where is my refund?")
    _accept(page, "Lena Linkova")
    expect(note).to_be_visible(timeout=WAIT_MS)
    expect(note).to_have_text(
        f"The bot paces its posts to Telegram's limit of {per_minute:g} a minute into the "
        f"group; the pinned counters refresh every {every:g} s."
    )

    card = page.locator("#messages li.msg", has_text="Lena Linkova").filter(
        has=page.get_by_role("link", name="Open conversation")
    )
    link = card.get_by_role("link", name="Open conversation")
    link.wait_for(timeout=WAIT_MS)
    assert re.match(r"^https://t\.me/c/\d+/\d+", link.get_attribute("href") or "")
    url = page.url
    link.click()
    expect(page.locator("#chat-title")).to_contain_text("Lena Linkova")
    active = page.locator("#topic-list .topic.active")
    expect(active).to_contain_text("Lena Linkova")
    page.locator("#messages", has_text="Where is my refund?").wait_for(timeout=WAIT_MS)
    assert page.url == url
    assert len(page.context.pages) == 1, "no tab was opened for t.me"


def test_one_bot_name_everywhere(open_page, demo: DemoProcess) -> None:
    """The bot's name in the group, in the Telegram customer's chat and on the widget is one."""
    page = open_page()
    name = _state(demo)["bot"]["name"]
    assert name and name != "talker_sandbox_bot"
    expect(page.locator("#phone-title")).to_have_text(name)
    _customer_writes(page, demo, "Nina Namecheck", "Hello?")
    card = page.locator("#messages li.msg", has_text="Nina Namecheck").first
    card.wait_for(timeout=WAIT_MS)
    expect(card.locator(".sender")).to_have_text(name)
    bot_senders = page.locator("#messages .sender")
    assert set(bot_senders.all_inner_texts()) <= {name, "Anna Operator", "Boris Operator"}
    page.get_by_role("button", name="Open chat").click(timeout=WAIT_MS)
    expect(page.get_by_role("dialog", name=name).locator(".tb-title")).to_have_text(name)


def test_widget_times_are_24_hour_and_a_guest_topic_is_grey(open_page, demo: DemoProcess) -> None:
    """A site visitor who gives no name is a guest: the widget shows its times as HH:MM (in a
    locale whose clock is 12-hour), and once accepted the guest's topic icon is grey, while a
    named customer's is not."""
    page = open_page()
    page.get_by_role("button", name="Open chat").click(timeout=WAIT_MS)
    widget = page.get_by_role("dialog")
    page.get_by_label("Message", exact=True).fill("Just looking around")
    page.get_by_role("button", name="Send", exact=True).click()
    sent = widget.locator(".tb-msg", has_text="Just looking around").locator(".tb-time")
    sent.wait_for(timeout=WAIT_MS)
    assert re.fullmatch(r"\d{2}:\d{2}", sent.inner_text()), sent.inner_text()

    _customer_writes(page, demo, "Gleb Named", "I have a name")
    _accept(page, "Just looking around")
    _accept(page, "Gleb Named")
    guest = _topic(page, re.compile(r"Guest \d+"))
    expect(guest.locator(".topic-icon")).to_have_css(
        "background-color", GUEST_GREY, timeout=WAIT_MS
    )
    named = _topic(page, "Gleb Named").locator(".topic-icon")
    named.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)  # a few more polls: the named one stays coloured
    assert named.evaluate("n => getComputedStyle(n).backgroundColor") != GUEST_GREY

    guest.locator(".topic-name").click()
    page.get_by_label("Message as the operator").fill("Welcome, take your time")
    page.get_by_role("button", name="Send as the operator").click()
    reply = widget.locator(".tb-msg", has_text="Welcome, take your time").locator(".tb-time")
    reply.wait_for(timeout=WAIT_MS)
    assert re.fullmatch(r"\d{2}:\d{2}", reply.inner_text()), reply.inner_text()


def test_the_page_has_a_favicon(open_page, demo: DemoProcess) -> None:
    page = open_page()
    href = page.locator("link[rel=icon]").get_attribute("href")
    assert href
    response = page.request.get(demo.base_url + href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/")


@pytest.mark.parametrize(("viewport", "prefix"), [(DESKTOP, "Wide"), (PHONE, "Narrow")])
def test_the_page_never_grows(open_page, demo: DemoProcess, viewport, prefix: str) -> None:
    """20 new customers: the Incoming feed scrolls inside its own list, the pinned counters
    stay on top of it, and the document stays exactly as tall as the window. Last in this
    module: a storm of inquiries may fold later ones into a digest."""
    page = open_page(viewport)
    if viewport is PHONE:
        page.get_by_role("button", name="Operators").click()
    for number in range(1, 21):
        _customer_writes(page, demo, f"{prefix} Crowd{number:02d}", f"Question {number}")
    feed = page.locator("#messages")
    for number in range(1, 21):  # on cards, or in a storm digest when they come fast
        expect(feed).to_contain_text(f"{prefix} Crowd{number:02d}", timeout=WAIT_MS)
    expect(page.locator("#pinned")).to_be_visible(timeout=WAIT_MS)

    page.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
    at_top = _layout(page)
    page.locator("#messages").evaluate("list => { list.scrollTop = list.scrollHeight; }")
    at_bottom = _layout(page)
    for layout in (at_top, at_bottom):
        assert layout["document"] == layout["viewport"] == viewport["height"], layout
        assert layout["pageScroll"] == 0, layout
        assert layout["list"] > layout["listBox"], "the feed scrolls inside its own list"
        assert 0 <= layout["chatTop"] < layout["pinnedTop"], layout
        assert layout["pinnedBottom"] <= layout["listTop"] + 1, "the pinned bar is above the list"
    assert at_top["pinnedTop"] == at_bottom["pinnedTop"], "the pinned bar does not scroll away"
    expect(page.locator("#pinned")).to_be_in_viewport()
