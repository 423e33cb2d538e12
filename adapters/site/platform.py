"""The site widget as a registered platform: one channel `site:<id>` per configured widget."""

from __future__ import annotations

from collections.abc import Iterable

from adapters.site import look
from adapters.site.settings import SiteSettings
from bridge.components import Component
from bridge.platforms import Platform, PlatformContext, PlatformParts
from config.paths import Path
from config.platforms import Caller, PlatformSchema, Raw

NAME = "site"


def _channels(section: SiteSettings) -> Iterable[tuple[str, str]]:
    return [(f"{NAME}:{widget_id}", widget.group) for widget_id, widget in section.widgets.items()]


def _group_paths(raw: Raw) -> Iterable[Path]:
    widgets = raw.get("widgets")
    if not isinstance(widgets, dict):
        return []
    return [("widgets", widget_id, "group") for widget_id in widgets]


def _callers(raw: Raw) -> list[Caller]:
    """Visitors' browsers load the widget from the bridge's address."""
    return [Caller("the site widget")]


def _summary(section: SiteSettings) -> str:
    widgets = len(section.widgets)
    return f"{NAME} ({widgets} widget{'s' if widgets != 1 else ''})"


def build(section: SiteSettings, context: PlatformContext) -> PlatformParts:
    """One adapter per widget, sharing the database, the files and one sender."""
    from adapters.site.adapter import SiteChannel
    from adapters.site.outlet import SiteOutlet
    from adapters.site.retention import SiteFiles

    assert context.file_link is not None and context.sessions is not None
    site = SiteChannel(
        context.config,
        context.sink,
        sessions=context.sessions,
        telegram_link=context.file_link,
    )
    components: list[Component] = list(site.adapters)
    if site.push is not None:
        components.append(site.push)
    return PlatformParts(
        components=components,
        sender=site.sender,
        outlet=SiteOutlet(),
        kept_files=(SiteFiles(site.files, context.config.widget_signing_key()),),
    )


SCHEMA = PlatformSchema(
    name=NAME,
    section=SiteSettings,
    channels=_channels,
    group_paths=_group_paths,
    callers=_callers,
    summary=_summary,
)

PLATFORM = Platform(
    schema=SCHEMA,
    build=build,
    display_names=look.DISPLAY_NAMES,
    badge=look.BADGE,
    aliases=look.ALIASES,
    max_text=look.MAX_TEXT,
)
