"""Links between messages in the operators' group and conversations (and their messages).

They live in the database so that a restart forgets nothing: an operator's reply to a message
posted days ago still finds its conversation.
"""

from __future__ import annotations

from sqlalchemy import true
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.dialect import upsert_insert
from storage.models import Conversation, LinkKind, MessageLink
from storage.timeutil import utcnow


async def add_link(
    session: AsyncSession,
    conversation_id: int,
    group_chat_id: int,
    group_message_id: int,
    kind: LinkKind | str,
    message_id: int | None = None,
    topic_id: int | None = None,
) -> MessageLink:
    """Link a group message to a conversation; linking the same group message again is a no-op
    that returns the existing link."""
    kind = LinkKind(kind)
    await session.exec(
        upsert_insert(session, MessageLink)
        .values(
            conversation_id=conversation_id,
            message_id=message_id,
            group_chat_id=group_chat_id,
            group_message_id=group_message_id,
            topic_id=topic_id,
            kind=kind,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["group_chat_id", "group_message_id"])
    )
    link = await link_for_group_message(session, group_chat_id, group_message_id)
    assert link is not None
    return link


async def link_for_group_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> MessageLink | None:
    """The link of one operators'-group message, if it has one."""
    result = await session.exec(
        select(MessageLink)
        .where(MessageLink.group_chat_id == chat_id, MessageLink.group_message_id == message_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def conversation_for_group_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> Conversation | None:
    """The conversation an operators'-group message belongs to (e.g. the one replied to)."""
    result = await session.exec(
        select(Conversation)
        .join(MessageLink, col(MessageLink.conversation_id) == col(Conversation.id))
        .where(MessageLink.group_chat_id == chat_id, MessageLink.group_message_id == message_id)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def copy_showing(
    session: AsyncSession, conversation_id: int, message_id: int, topic_id: int | None
) -> int | None:
    """The group message (in topic `topic_id`) that shows conversation message `message_id`.

    A copy merged from several messages is linked to the first of them (one link per group
    message), and merged parts keep their order, so the copy that shows a message is the
    newest copy linked to it or to an earlier message of the conversation.
    """
    result = await session.exec(
        select(MessageLink.group_message_id)
        .where(
            MessageLink.conversation_id == conversation_id,
            col(MessageLink.kind).in_((LinkKind.CUSTOMER_COPY, LinkKind.HISTORY)),
            col(MessageLink.message_id) <= message_id,
            MessageLink.topic_id == topic_id if topic_id is not None else true(),
        )
        .order_by(col(MessageLink.message_id).desc(), col(MessageLink.id).desc())
        .limit(1)
    )
    found = result.first()
    return int(found) if found is not None else None


async def topic_chat(session: AsyncSession, conversation_id: int, topic_id: int) -> int | None:
    """The chat whose topic `topic_id` is the conversation's place (issue 16, `mode: private`:
    the claimer's private chat; the topic's first message is linked when it is made). Topic ids
    are per chat, so two claimers' topics may share one: the newest link is the current place."""
    result = await session.exec(
        select(MessageLink.group_chat_id)
        .where(
            MessageLink.conversation_id == conversation_id,
            MessageLink.group_message_id == topic_id,
            MessageLink.topic_id == topic_id,
        )
        .order_by(col(MessageLink.id).desc())
        .limit(1)
    )
    found = result.first()
    return int(found) if found is not None else None
