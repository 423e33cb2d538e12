"""The widget in headless Chromium shows the bridge's refusals to the visitor (issue 14): a
message held back by the cap on new conversations says why, in the page's language, and goes
out by itself once the cap lets it. (Fixtures and skip rules: test_widget_browser.py.)"""

from __future__ import annotations

import pytest

from adapters.site.limits import Rate, RateLimiter
from bridge.core.texts import text
from tests.adapters.site import test_widget_browser as browser_tests
from tests.adapters.site.harness import WIDGET
from tests.adapters.site.test_widget_browser import World, open_chat

# The browser tests' fixtures, used here as they are.
browser_available = browser_tests.browser_available
world = browser_tests.world

pytestmark = pytest.mark.browser


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_visitor_held_back_by_the_cap_reads_why_and_the_message_goes_later(
    world: World,
) -> None:
    from playwright.async_api import expect

    clock = Clock()
    (adapter,) = [a for a in world.bridge.site.adapters if a.widget_id == WIDGET]
    adapter.new_conversation_limit = RateLimiter(Rate(per_minute=60, burst=1), clock=clock)
    assert adapter.new_conversation_limit.wait_time(WIDGET) == 0  # someone else took it

    page = await world.visitor("ru")
    await open_chat(page, "ru")
    await page.get_by_label("Сообщение").fill("Есть ли улун?")
    await page.get_by_label("Отправить").click()
    await expect(page.get_by_text(text("ru", "customer.widget_busy"))).to_be_visible()
    assert world.bridge.sink.inbound_events == []

    clock.now += 1  # the cap lets one more in; the widget tries again after Retry-After
    sink = world.bridge.sink
    await sink.wait_for(lambda s: len(s.inbound_events) == 1)
    assert sink.inbound_events[0].text == "Есть ли улун?"
    await expect(page.get_by_text(text("ru", "customer.widget_busy"))).to_be_hidden()
