"""What the fake VK community knows: users, messages, uploaded media, callback servers."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass, field
from typing import Any

DELETED = "deleted"
BANNED = "banned"


@dataclass(slots=True)
class VkUser:
    id: int
    first_name: str
    last_name: str
    deactivated: str | None = None  # "deleted" or "banned", as users.get reports it


@dataclass(slots=True)
class CallbackServer:
    """One Callback API server of the community (groups.addCallbackServer)."""

    id: int
    url: str
    title: str
    secret_key: str = ""
    status: str = "unconfigured"  # unconfigured → ok | failed after the confirmation request
    api_version: str = "5.199"
    events: dict[str, bool] = field(
        default_factory=lambda: {
            "message_new": True,
            "message_edit": True,
            "message_allow": True,
            "message_deny": True,
            "message_event": True,
            "message_reply": False,
        }
    )

    def as_item(self, creator_id: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "creator_id": creator_id,
            "url": self.url,
            "secret_key": self.secret_key,
            "status": self.status,
        }


#: Group token rights by name and bit (dev.vk.com: "Access rights for a community token").
TOKEN_RIGHTS = {
    "stories": 1,
    "photos": 4,
    "app_widget": 64,
    "messages": 4096,
    "docs": 131072,
    "manage": 262144,
}


#: Every event type of Long Poll and Callback API settings (`groups_long_poll_events` in
#: specs/vk/objects.json, and `message_event`, which the schema predates); the getters answer
#: each as 0 or 1.
EVENT_TYPES = (
    "audio_new",
    "board_post_delete",
    "board_post_edit",
    "board_post_new",
    "board_post_restore",
    "group_change_photo",
    "group_change_settings",
    "group_join",
    "group_leave",
    "group_officers_edit",
    "lead_forms_new",
    "market_comment_delete",
    "market_comment_edit",
    "market_comment_new",
    "market_comment_restore",
    "market_order_new",
    "market_order_edit",
    "message_allow",
    "message_deny",
    "message_new",
    "message_read",
    "message_reply",
    "message_typing_state",
    "message_edit",
    "photo_comment_delete",
    "photo_comment_edit",
    "photo_comment_new",
    "photo_comment_restore",
    "photo_new",
    "poll_vote_new",
    "user_block",
    "user_unblock",
    "video_comment_delete",
    "video_comment_edit",
    "video_comment_new",
    "video_comment_restore",
    "video_new",
    "message_reaction_event",
    "wall_post_new",
    "wall_reply_delete",
    "wall_reply_edit",
    "wall_reply_new",
    "wall_reply_restore",
    "wall_repost",
    "wall_schedule_post_new",
    "wall_schedule_post_delete",
    "donut_subscription_create",
    "donut_subscription_prolonged",
    "donut_subscription_cancelled",
    "donut_subscription_expired",
    "donut_subscription_price_changed",
    "donut_money_withdraw",
    "donut_money_withdraw_error",
    "message_event",
)


def long_poll_events() -> dict[str, bool]:
    """The Bots Long Poll events of a community whose admin turned on what a bot needs."""
    return {
        "message_new": True,
        "message_reply": False,
        "message_edit": True,
        "message_allow": True,
        "message_deny": True,
        "message_typing_state": False,
        "message_event": True,
    }


@dataclass(slots=True)
class CommunitySettings:
    """What the community's admin switched on: its messages, Bots Long Poll, the token's rights."""

    messages_enabled: bool = True
    token_rights: set[str] = field(default_factory=lambda: {"messages", "photos", "docs"})
    long_poll_enabled: bool = True
    long_poll_api_version: str = "5.199"
    long_poll_events: dict[str, bool] = field(default_factory=long_poll_events)


@dataclass(slots=True)
class StoredFile:
    name: str
    data: bytes
    content_type: str


@dataclass(slots=True)
class VkState:
    """Mutable state of one community; every id counter lives here."""

    users: dict[int, VkUser] = field(default_factory=dict)
    allowed: set[int] = field(default_factory=set)  # users the community may message
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # id → message object
    sent_by_random_id: dict[int, int] = field(default_factory=dict)  # random_id → message id
    conversation_counters: dict[int, int] = field(default_factory=dict)
    photos: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    docs: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    pending_uploads: dict[str, StoredFile] = field(default_factory=dict)
    files: dict[str, StoredFile] = field(default_factory=dict)
    callback_servers: dict[int, CallbackServer] = field(default_factory=dict)
    confirmation_code: str = field(default_factory=lambda: secrets.token_hex(4))
    settings: CommunitySettings = field(default_factory=CommunitySettings)
    _next_id: int = 100

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def next_conversation_message_id(self, peer_id: int) -> int:
        self.conversation_counters[peer_id] = self.conversation_counters.get(peer_id, 0) + 1
        return self.conversation_counters[peer_id]

    def user(self, user_id: int) -> VkUser:
        """The user with this id, created with a placeholder name if unknown."""
        if user_id not in self.users:
            self.users[user_id] = VkUser(user_id, "User", str(user_id))
        return self.users[user_id]

    def store_file(self, name: str, data: bytes, content_type: str) -> str:
        key = f"{secrets.token_hex(8)}-{name}"
        self.files[key] = StoredFile(name, data, content_type)
        return key


def tiny_png() -> bytes:
    """A 2×2 PNG, the picture behind photos customers send in the fake."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), (70, 130, 180)).save(buffer, format="PNG")
    return buffer.getvalue()
