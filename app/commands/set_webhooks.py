"""`talker-bridge set-webhooks -c FILE`: point every platform at the bridge's public address.

Run it once the bridge is running and reachable at `http.public_url` (Viber and VK call the URL
to check it before they accept it). It registers Telegram's `setWebhook` (with the secret token)
when `telegram.updates: webhook`, then does what each enabled platform's `register_webhook`
does (adapters/<platform>/registration.py: Viber's `set_webhook`, VK's Callback API server,
the steps to paste into Meta's console for Facebook). Exit 0 when everything took, 1 when a
platform refused, 2 for a bad config.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bridge.platforms import WebhookReport

if TYPE_CHECKING:
    from bridge.platforms import Registry
    from config import BridgeConfig

DEFAULT_CONFIG = "config.yaml"

__all__ = ["WebhookReport", "register", "register_webhooks", "set_webhooks"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "set-webhooks",
        help="register the bridge's webhook URLs with Telegram, Viber and VK",
        description="Register http.public_url/webhooks/... with Telegram (updates: webhook), "
        "Viber and VK's Callback API, and print what to paste into Meta's console for "
        "Facebook. Run it while the bridge is running and reachable at http.public_url.",
    )
    parser.add_argument(
        "-c", "--config", default=DEFAULT_CONFIG, metavar="FILE", help="the bridge config (YAML)"
    )
    parser.set_defaults(func=set_webhooks)


def set_webhooks(args: argparse.Namespace) -> int:
    """The command: load the config, register, print the report."""
    import asyncio

    from app.commands import config_or_report

    config = config_or_report(args.config)
    if config is None:
        return 2
    if config.http.public_url is None:
        print(
            f"set-webhooks: http.public_url is not set in {config.source}; platforms need the "
            "bridge's public https address (e.g. https://support.example.com)",
            file=sys.stderr,
        )
        return 2
    report = asyncio.run(register_webhooks(config))
    for line in report.lines:
        print(line)
    return 0 if report.ok else 1


def public_base(config: BridgeConfig) -> str:
    if config.http.public_url is None:
        raise ValueError("http.public_url is not set")
    return str(config.http.public_url).rstrip("/")


async def register_webhooks(
    config: BridgeConfig, platforms: Registry | None = None
) -> WebhookReport:
    """Register every webhook `config` needs; never raises for a platform's refusal.

    `platforms` defaults to the registry of app/platforms.py.
    """
    from app.platforms import registry

    report = WebhookReport()
    base = public_base(config)
    await _telegram(config, base, report)
    for platform in registry() if platforms is None else platforms:
        section = config.section(platform.name)
        if section is not None and platform.register_webhook is not None:
            await platform.register_webhook(section, base, report)
    return report


async def _telegram(config: BridgeConfig, base: str, report: WebhookReport) -> None:
    from botapi.sender import make_bot, map_error
    from botapi.updates import ALLOWED_UPDATES, WEBHOOK_PATH

    telegram = config.telegram
    if telegram.updates != "webhook":
        report.good("Telegram: updates: polling — no webhook (run removes any old one)")
        return
    if not telegram.webhook_secret:
        report.bad("Telegram: updates: webhook needs telegram.webhook_secret")
        return
    bot = make_bot(telegram.token, str(telegram.api_url))
    url = base + WEBHOOK_PATH
    try:
        await bot.set_webhook(
            url, secret_token=telegram.webhook_secret, allowed_updates=ALLOWED_UPDATES
        )
    except Exception as exc:
        report.bad(f"Telegram: setWebhook {url} refused: {map_error(exc) or exc}")
    else:
        report.good(f"Telegram: webhook {url}")
    finally:
        await bot.session.close()
