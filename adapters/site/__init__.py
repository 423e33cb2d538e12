"""The site chat widget (channel `site:<widget id>`): embed script, standalone page, WebSocket.

PLATFORM                                  # the descriptor the registry lists (platform.py)
site = SiteChannel(config, sink, sessions=runtime.session, telegram_link=link)  # one per widget
components.extend(site.adapters)          # each serves /widget/<id>...
senders["site"] = site.sender             # the outbox pushes operator replies to visitors
outlets.register("site", SiteOutlet())    # the core queues replies for platform "site"
"""

from adapters.site.adapter import SiteAdapter, SiteChannel
from adapters.site.outlet import SiteOutlet
from adapters.site.platform import PLATFORM
from adapters.site.sender import SiteSender

__all__ = ["PLATFORM", "SiteAdapter", "SiteChannel", "SiteOutlet", "SiteSender"]
