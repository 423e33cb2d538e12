"""Make the README's helpdesk screenshot from the running demo (real time, about 2 minutes).

    .venv/bin/python docs/screenshots.py     # docs/demo-offline.png, docs/demo-rating.png

Starts `talker-bridge demo` (the group is closed for the first minute or two), writes as a
site visitor (the offline answer), waits for the SLA reminder in the Incoming feed after the
opening, accepts, answers with a quick reply, closes, and rates with the widget's stars.
Uses Debian's chromium through Playwright (never a downloaded browser); emoji need Debian's
fonts-noto-color-emoji.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.sandbox.demo.conftest import CHROMIUM, CHROMIUM_ARGS, demo_process  # noqa: E402

WAIT_MS = 240_000


def main(folder: Path = ROOT / "docs") -> None:
    with demo_process() as demo, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(demo.url)
        page.get_by_role("button", name="Open chat").click(timeout=30_000)
        page.get_by_label("Name", exact=True).last.fill("Vera Visitor")
        page.get_by_label("Message", exact=True).fill("Do you ship to Riga?")
        page.get_by_role("button", name="Send", exact=True).click()
        widget = page.get_by_role("dialog")
        widget.get_by_text("We are closed now").wait_for(timeout=30_000)
        page.locator("#messages li.msg", has_text="Received outside working hours").wait_for()
        page.locator("#messages", has_text="has waited").wait_for(timeout=WAIT_MS)
        page.screenshot(path=str(folder / "demo-offline.png"))
        card = page.locator("#messages li.msg", has_text="Vera Visitor").filter(
            has=page.get_by_role("button", name="Accept")
        )
        card.get_by_role("button", name="Accept").click(timeout=30_000)
        page.locator("#topic-list .topic-name", has_text="Vera Visitor").click(timeout=30_000)
        page.locator("#messages", has_text="Accepted by Anna").wait_for(timeout=30_000)
        page.locator("#messages", has_text="Do you ship to Riga?").wait_for(timeout=30_000)
        page.get_by_label("Message as the operator").fill("/t delivery")
        page.get_by_role("button", name="Send as the operator").click()
        widget.get_by_text("your order ships within 2 days").wait_for(timeout=30_000)
        page.get_by_label("Message as the operator").fill("/close")
        page.get_by_role("button", name="Send as the operator").click()
        widget.get_by_role("button", name="Rate 5 of 5").click(timeout=30_000)
        page.locator("#messages", has_text="★★★★★ 5/5").wait_for(timeout=30_000)
        widget.get_by_text("Thank you for your rating").wait_for(timeout=30_000)
        page.screenshot(path=str(folder / "demo-rating.png"))
        browser.close()
    print(f"wrote {folder / 'demo-offline.png'} and {folder / 'demo-rating.png'}")


if __name__ == "__main__":
    main()
