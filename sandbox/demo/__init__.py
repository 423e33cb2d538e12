"""`talker-bridge demo`: the whole product in one browser page, with no tokens.

The fake platforms run in-process on a second local port; the bridge's real components (from
`bridge.wiring.build_components`) run against them with SQLite in a temporary folder, every
channel on; the /demo page shows the operators' group as Telegram would, a customer simulator
for Telegram, VK, Viber and Facebook, and the real site widget.

    async with DemoRunner(port=8080) as demo:
        print(demo.url)          # http://127.0.0.1:8080/demo
"""

from sandbox.demo.runner import DemoRunner

__all__ = ["DemoRunner"]
