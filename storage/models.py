"""The tables: SQLModel classes shared by the queries, the outbox and the migrations.

Every datetime column is `UTCDateTime` (aware UTC on read-back, on both backends). State columns
hold the string values of the `StrEnum`s below and are guarded by CHECK constraints. Telegram
ids (chats, users, messages) are BIGINT. Autoincrement BIGINT keys are plain INTEGER on SQLite,
where only `INTEGER PRIMARY KEY` auto-increments.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    Sequence,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from storage.timeutil import UTCDateTime, utcnow

# Deterministic constraint names, so migrations can refer to them on both backends.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigIntKey = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")

# PostgreSQL hands out guest numbers from this sequence (atomic across processes); SQLite,
# which has no sequences, uses the single-row `guest_counter` table instead.
GUEST_NUMBER_SEQUENCE = Sequence("guest_number_seq", metadata=SQLModel.metadata)


class ConversationState(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    CLOSED = "closed"


OPEN_STATES = (ConversationState.NEW, ConversationState.ACCEPTED)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    NOTE = "note"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    SEEN = "seen"
    FAILED = "failed"


class LinkKind(StrEnum):
    CARD = "card"
    CUSTOMER_COPY = "customer_copy"
    OPERATOR_REPLY = "operator_reply"
    HISTORY = "history"
    NOTICE = "notice"


class OutboxState(StrEnum):
    PENDING = "pending"
    LEASED = "leased"
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"


def _in(column: str, values: Any) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Customer(SQLModel, table=True):
    """A person writing from one channel; keyed by (channel, platform user id)."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        UniqueConstraint("guest_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=64)
    external_id: str = Field(max_length=255)
    chat: str = Field(max_length=255)
    name: str | None = Field(default=None, max_length=255)
    guest_number: int | None = Field(default=None)
    profile: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    language: str | None = Field(default=None, max_length=16)
    blocked: bool = Field(default=False)
    reachable: bool = Field(default=True)
    unreachable_reason: str | None = Field(default=None, sa_type=Text)
    #: Unused (avatars are kept per render key in `avatar_files`); dropping the column would
    #: rebuild `customers` on SQLite, whose foreign keys cascade, so it stays for now.
    avatar_file_id: str | None = Field(default=None, max_length=255)
    last_inbound_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: When the customer last got the offline auto-reply (issue 15): once per closed spell.
    offline_notice_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime,
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )

    @property
    def display_name(self) -> str:
        """The name operators see: the known name, else "Guest N"."""
        if self.name:
            return self.name
        if self.guest_number is not None:
            return f"Guest {self.guest_number}"
        return "Guest"


class GuestCounter(SQLModel, table=True):
    """SQLite's guest-number sequence: one row (id=1) whose value is the last number given."""

    __tablename__ = "guest_counter"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0)


class Conversation(SQLModel, table=True):
    """One inquiry of a customer: new → accepted → closed. `id` is the #N operators see."""

    __tablename__ = "conversations"
    __table_args__ = (
        CheckConstraint(_in("state", ConversationState), name="state"),
        # At most one open conversation per customer (partial unique index, both backends).
        Index(
            "uq_conversations_one_open",
            "customer_id",
            unique=True,
            sqlite_where=text(_in("state", OPEN_STATES)),
            postgresql_where=text(_in("state", OPEN_STATES)),
        ),
        Index("ix_conversations_customer_id_id", "customer_id", "id"),
        Index("ix_conversations_group_state", "group", "state"),
        Index("ix_conversations_operator_id_state", "operator_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", ondelete="CASCADE")
    group: str = Field(max_length=128)
    state: str = Field(default=ConversationState.NEW, max_length=16)
    operator_id: int | None = Field(default=None, sa_type=BigInteger)
    operator_name: str | None = Field(default=None, max_length=255)
    topic_id: int | None = Field(default=None, sa_type=BigInteger)
    card_message_id: int | None = Field(default=None, sa_type=BigInteger)
    card_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    previous_conversation_id: int | None = Field(
        default=None, foreign_key="conversations.id", ondelete="SET NULL"
    )
    opened_at: datetime = _created()
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_customer_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_operator_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # --- issue 15: the helpdesk ---
    #: The first message came while the group was closed (its card says so).
    outside_hours: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    #: When the SLA clocks start: the opening time after a message outside hours; None:
    #: `opened_at` (always open, or opened during working hours).
    sla_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The claimer's first reply to the customer (for /stats' time to first answer).
    first_reply_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Why it was closed: "operator" (/close), "inactivity" (auto-close); None while open.
    close_reason: str | None = Field(default=None, max_length=16)
    #: The customer's rating 1-5 (one per conversation) and the comment that followed it.
    rating: int | None = Field(default=None)
    rating_comment: str | None = Field(default=None, sa_type=Text)
    rated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class Message(SQLModel, table=True):
    """A message of a conversation: from the customer (in), to them (out), or a note."""

    __tablename__ = "messages"
    __table_args__ = (
        # NULL external ids never collide, so only platform-identified messages are deduplicated.
        UniqueConstraint("channel", "external_id"),
        CheckConstraint(_in("direction", Direction), name="direction"),
        CheckConstraint(_in("delivery_state", DeliveryState), name="delivery_state"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    conversation_id: int = Field(foreign_key="conversations.id", ondelete="CASCADE")
    direction: str = Field(max_length=8)
    author: str | None = Field(default=None, max_length=255)
    text: str | None = Field(default=None, sa_type=Text)
    attachments: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONType)
    channel: str = Field(max_length=64)
    external_id: str | None = Field(default=None, max_length=255)
    created_at: datetime = _created()
    delivery_state: str = Field(default=DeliveryState.PENDING, max_length=16)
    delivery_error: str | None = Field(default=None, sa_type=Text)
    edited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MessageLink(SQLModel, table=True):
    """Which operators'-group message belongs to which conversation (and message)."""

    __tablename__ = "message_links"
    __table_args__ = (
        UniqueConstraint("group_chat_id", "group_message_id"),
        CheckConstraint(_in("kind", LinkKind), name="kind"),
        Index("ix_message_links_conversation_id", "conversation_id"),
        Index("ix_message_links_message_id", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    conversation_id: int = Field(foreign_key="conversations.id", ondelete="CASCADE")
    message_id: int | None = Field(
        default=None, foreign_key="messages.id", ondelete="SET NULL", sa_type=BigInteger
    )
    group_chat_id: int = Field(sa_type=BigInteger)
    group_message_id: int = Field(sa_type=BigInteger)
    topic_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str = Field(max_length=32)
    created_at: datetime = _created()


class Operator(SQLModel, table=True):
    """A Telegram user seen acting in an operators' group."""

    __tablename__ = "operators"

    id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    name: str = Field(max_length=255)
    username: str | None = Field(default=None, max_length=255)
    private_chat_started: bool = Field(default=False)
    language: str | None = Field(default=None, max_length=16)
    created_at: datetime = _created()


class ProcessedEvent(SQLModel, table=True):
    """Platform event ids already handled (VK callback event_id, Telegram update_id, ...)."""

    __tablename__ = "processed_events"
    __table_args__ = (Index("ix_processed_events_created_at", "created_at"),)

    source: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(primary_key=True, max_length=255)
    created_at: datetime = _created()


class KeyValue(SQLModel, table=True):
    """Small durable strings: poll cursors (the getUpdates offset, the VK long-poll ts), the
    dashboard's message id and shown text, one-off hints. Anything with a shape has a table."""

    __tablename__ = "kv"

    key: str = Field(primary_key=True, max_length=255)
    value: str = Field(sa_type=Text)
    updated_at: datetime = _created()


class SentMessage(SQLModel, table=True):
    """A platform's id of a reply we sent: delivery receipts find our message by it."""

    __tablename__ = "sent_messages"
    __table_args__ = (Index("ix_sent_messages_message_id", "message_id"),)

    #: The channel family ("vk", "viber", "facebook"): receipts name the platform, not the bot.
    platform: str = Field(primary_key=True, max_length=32)
    external_id: str = Field(primary_key=True, max_length=255)
    message_id: int = Field(
        foreign_key="messages.id", ondelete="CASCADE", sa_type=BigInteger, nullable=False
    )
    created_at: datetime = _created()


class CustomerCopyForm(StrEnum):
    """How a delivered copy can be edited: its text, its caption (media), or not at all."""

    TEXT = "text"
    CAPTION = "caption"
    OTHER = "other"


class CustomerCopyRow(SQLModel, table=True):
    """One platform message showing (part of) our message in the customer's chat, in send order."""

    __tablename__ = "customer_copies"
    __table_args__ = (
        UniqueConstraint("message_id", "chat", "platform_message_id"),
        CheckConstraint(_in("form", CustomerCopyForm), name="form"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    message_id: int = Field(
        foreign_key="messages.id", ondelete="CASCADE", sa_type=BigInteger, nullable=False
    )
    chat: str = Field(max_length=255)
    platform_message_id: str = Field(max_length=255)
    form: str = Field(max_length=16)
    created_at: datetime = _created()


class OperatorGroup(SQLModel, table=True):
    """An operators' group (config name) an operator was seen to belong to."""

    __tablename__ = "operator_groups"

    operator_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    group: str = Field(primary_key=True, max_length=128)
    created_at: datetime = _created()


class FeedStateRow(SQLModel, table=True):
    """One group's Incoming-feed digest state: the next digest number. Its row is locked while
    the group's digests change (desk/feed.py), so concurrent inquiries never lose an entry."""

    __tablename__ = "feed_states"

    group: str = Field(primary_key=True, max_length=128)
    next_digest: int = Field(default=1)
    updated_at: datetime = _created()


class FeedDigestRow(SQLModel, table=True):
    """One storm digest of a group's Incoming feed: its inquiries and its Telegram message.

    `entries` is the rendered view, in order: `[{"id": 41, "line": "<html>", "label": "Accept
    #41 Ann" or null once taken}]`, so re-rendering reads nothing else.
    """

    __tablename__ = "feed_digests"

    group: str = Field(primary_key=True, max_length=128)
    n: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    posting: bool = Field(default=False)
    version: int = Field(default=0)
    entries: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSONType, nullable=False)


class AvatarFile(SQLModel, table=True):
    """A rendered avatar already uploaded to Telegram: render key → file_id."""

    __tablename__ = "avatar_files"

    key: str = Field(primary_key=True, max_length=255)
    file_id: str = Field(max_length=255)
    created_at: datetime = _created()


class OutboxItem(SQLModel, table=True):
    """One outbound platform call, written in the transaction that caused it.

    Items of one `lane` are sent strictly in id order; `destination` is the pacing key.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint(_in("state", OutboxState), name="state"),
        Index("ix_outbox_state_not_before", "state", "not_before"),
        Index("ix_outbox_not_before", "not_before"),
        Index("ix_outbox_lane_id", "lane", "id"),
        Index("ix_outbox_destination", "destination"),
        Index("ix_outbox_coalesce_key", "coalesce_key"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    created_at: datetime = _created()
    platform: str = Field(max_length=32)
    destination: str = Field(max_length=255)
    lane: str = Field(max_length=255)
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType, nullable=False)
    priority: int = Field(default=100)
    coalesce_key: str | None = Field(default=None, max_length=255)
    handler: str | None = Field(default=None, max_length=128)
    conversation_id: int | None = Field(default=None)
    message_id: int | None = Field(default=None, sa_type=BigInteger)
    state: str = Field(default=OutboxState.PENDING, max_length=16)
    attempts: int = Field(default=0)
    not_before: datetime = _created()
    lease_owner: str | None = Field(default=None, max_length=255)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_token: int = Field(default=0)  # fencing token: +1 at every lease (issue 13)
    last_error: str | None = Field(default=None, sa_type=Text)
    result: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Pacing(SQLModel, table=True):
    """Shared pacing state of one destination, across processes."""

    __tablename__ = "pacing"

    destination: str = Field(primary_key=True, max_length=255)
    next_at: datetime = _created()
    penalty_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    tokens: float = Field(default=0.0)
    # Window buckets (a Telegram group): the last N reserved slots, a JSON list of epoch seconds.
    window_log: str | None = Field(default=None, sa_type=Text)
    updated_at: datetime = _created()


# --- issue 13: dead letters --------------------------------------------------


class DeadLetter(SQLModel, table=True):
    """A platform update or webhook body that failed deterministically (a handler's bug, a
    payload the code cannot handle): kept with its raw JSON and the error, so nothing is lost
    and `talker-bridge dead-letters replay` can feed it again once the cause is fixed."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_source_key", "source", "key"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    source: str = Field(max_length=32)
    key: str = Field(max_length=255)
    payload: str = Field(sa_type=Text)
    error: str = Field(sa_type=Text)
    attempts: int = Field(default=1)
    created_at: datetime = _created()
    replayed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# --- issue 13: outbox leases -------------------------------------------------


# --- issue 13: leader lease --------------------------------------------------


class LeaderLease(SQLModel, table=True):
    """Who leads under one advisory lock, since when (`term`), and when it last confirmed.

    The leader renews `renewed_at` (server time) over its lock's own connection at every
    confirmation; a standby that sees it older than the takeover bound may end the stale
    holder's session (`holder_pid`) and take over with `term + 1` (bridge/leader.py).
    `holder` is NULL after a clean hand-over.
    """

    __tablename__ = "leader_lease"

    name: str = Field(primary_key=True, max_length=128)
    holder: str | None = Field(default=None, max_length=255)
    holder_pid: int | None = Field(default=None)
    term: int = Field(default=0, sa_type=BigInteger)
    renewed_at: datetime = _created()


# --- issue 13: platform state kept across restarts ---------------------------
# No table of its own: Messenger's sent log is `sent_messages` (storage/sent.py
# `unseen_sent_until`), VK's denied customers are `customers.reachable`.


# --- issue 13: retention -----------------------------------------------------

#: The retention job finds finished outbox rows by when they finished (storage/retention.py).
Index("ix_outbox_done_at", OutboxItem.__table__.c.done_at)  # type: ignore[attr-defined]


metadata = SQLModel.metadata


# --- issue 15: the helpdesk --------------------------------------------------


class Reminder(SQLModel, table=True):
    """A reminder sent (or an auto-close done), claimed once across processes.

    `kind` is `accept` (a card waits for Accept), `answer` (a customer waits for the
    claimer's answer) or `auto_close`; `wait` names the wait it is about (the instant its
    clock started, and the repeat number), so a reminder is sent once per wait: the job
    inserts the row in the transaction that queues the reminder, and a second process's
    insert of the same key fails.
    """

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("conversation_id", "kind", "wait"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BigIntKey)
    conversation_id: int = Field(foreign_key="conversations.id", ondelete="CASCADE")
    kind: str = Field(max_length=16)
    wait: str = Field(max_length=64)
    created_at: datetime = _created()
