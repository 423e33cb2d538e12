"""The operators' desk in a Telegram group: the core's `Desk`, as outbox rows of Bot API calls.

Every method only enqueues (in the caller's transaction). Places:
- topics mode: one forum topic per customer (lane `tg:<chat>:topic:c<customer>`), created on
  the first accept and reopened later; the history is posted once the topic exists
  (completions.py), so a message that arrives meanwhile is never lost or doubled;
- replies mode: the customer's messages are posted in the group (lane `tg:<chat>:conv:<id>`),
  each linked in the database so that a reply to any of them finds the conversation;
- private mode: the group keeps the feed and the cards; an accepted conversation gets a topic
  in the claimer's private chat with the bot (lane `tg:<user>:conv:<id>`), made on each accept
  (desk/private_places.py); its first message is linked, which tells the topic's chat.
Cards live in lane `tg:<chat>:card:<conversation>`: the post first, then its edits (collapsed).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botapi import calls
from bridge import outbox
from bridge.avatars import AvatarService, display_name
from bridge.core.cards import (
    CardView,
    customer_copy,
    escape,
    escaped_shortened,
    group_link,
    link_html,
    message_summary,
    pieces,
    tg_length,
    topic_name,
)
from bridge.core.cards import render_card as render_card_html
from bridge.core.platform_names import NO_NAMES, PlatformNames
from bridge.core.texts import text
from bridge.events import Attachment
from bridge.helpdesk.sla import waited_text
from desk.callbacks import AcceptCallback, packed
from desk.completions import DeskHandler
from desk.private_places import (
    close_private_place,
    follow_claimer,
    open_private_place,
    private_lane,
)
from storage.avatars import get_avatar_file_id
from storage.conversations import get_conversation
from storage.links import copy_showing, topic_chat
from storage.messages import conversation_messages
from storage.models import ConversationState, Direction
from storage.operators import get_operator, operator_groups, operators_reachable_in_private

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from config import BridgeConfig, GroupConfig
    from storage.models import Conversation, Customer, Message

PLATFORM = "telegram"
#: The longest caption of a customer's media copy (Telegram allows 1024, with room to spare).
COPY_CAPTION_LIMIT = 1000


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """The stored attachments of a message as `Attachment`s."""
    out = []
    for raw in message.attachments or []:
        fields = {k: v for k, v in raw.items() if k in Attachment.__slots__}
        out.append(Attachment(**fields))
    return tuple(out)


def _carried_as_caption(
    message: Message, attachments: tuple[Attachment, ...], author: str | None
) -> bool:
    """Whether the text goes whole as an attachment's caption, so posting it too would double it.

    A Telegram customer's photo caption is both the message's text and the photo's caption.
    """
    if not message.text or not any(a.caption == message.text for a in attachments):
        return False
    return tg_length(customer_copy(message.text, author=author, limit=10**6)) <= COPY_CAPTION_LIMIT


class TelegramDesk:
    """The `bridge.core.desk.Desk` of Telegram operators' groups."""

    def __init__(
        self,
        config: BridgeConfig,
        avatars: AvatarService | None = None,
        names: PlatformNames = NO_NAMES,
    ) -> None:
        """`avatars` draws the customers' avatars (with the platforms' badges the root hands
        over); `names` names their channels to operators."""
        self.config = config
        self.language = config.language
        self.avatars = avatars or AvatarService()
        self.names = names

    # --- places and names -----------------------------------------------------------------

    def group(self, conversation: Conversation) -> GroupConfig:
        return self.config.groups[conversation.group]

    def customer_name(self, customer: Customer) -> str:
        return display_name(customer.name, customer.guest_number, self.language)

    def source_name(self, channel: str) -> str:
        """How `channel` is named to operators: "VK", "Site (shop)"."""
        return self.names.source(self.language, channel)

    def place_lane(self, conversation: Conversation) -> str:
        group = self.group(conversation)
        if group.mode == "private":
            return private_lane(conversation.operator_id or group.chat_id, conversation)
        if group.mode == "topics":
            return f"tg:{group.chat_id}:topic:c{conversation.customer_id}"
        return f"tg:{group.chat_id}:conv:{conversation.id}"

    def place_link(self, conversation: Conversation) -> str:
        """A t.me link to where the conversation is worked on (its topic, or its card)."""
        group = self.group(conversation)
        if group.mode == "topics" and conversation.topic_id:
            return group_link(group.chat_id, thread_id=conversation.topic_id)
        return group_link(
            group.chat_id, message_id=conversation.card_message_id, thread_id=group.incoming_topic
        )

    async def private_place(
        self, session: AsyncSession, conversation: Conversation
    ) -> tuple[int, int] | None:
        """private mode: (chat, thread) of the conversation's topic in a private chat, if made."""
        if self.group(conversation).mode != "private" or conversation.topic_id is None:
            return None
        chat = await topic_chat(session, conversation.id or 0, conversation.topic_id)
        return (chat, conversation.topic_id) if chat is not None else None

    def place_ready(self, conversation: Conversation) -> bool:
        """Whether posts can go to the conversation's place now (topics: the topic exists)."""
        return self.group(conversation).mode == "replies" or conversation.topic_id is not None

    async def enqueue(
        self,
        session: AsyncSession,
        conversation: Conversation | None,
        *,
        chat_id: int | str,
        lane: str,
        kind: str,
        payload: dict[str, Any],
        priority: int = outbox.PRIORITY_RELAY,
        coalesce_key: str | None = None,
        handler: str | None = None,
        message_id: int | None = None,
        ctx: dict[str, Any] | None = None,
    ) -> None:
        if ctx:
            payload["ctx"] = ctx
        await outbox.enqueue(
            session,
            platform=PLATFORM,
            destination=str(chat_id),
            lane=lane,
            kind=kind,
            payload=payload,
            priority=priority,
            coalesce_key=coalesce_key,
            handler=handler,
            conversation_id=conversation.id if conversation is not None else None,
            message_id=message_id,
        )

    # --- the card -------------------------------------------------------------------------

    async def card_view(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> CardView:
        assert conversation.id is not None
        messages = await conversation_messages(session, conversation.id)
        summaries = [
            message_summary(m.text or "", [a.kind for a in attachments_of(m)], self.language)
            for m in messages
            if m.direction == Direction.IN
        ]
        return CardView(
            number=conversation.id,
            name=self.customer_name(customer),
            source=self.source_name(customer.channel),
            opened_at=conversation.opened_at,
            messages=summaries,
            state=ConversationState(conversation.state).value,
            operator_name=conversation.operator_name,
            previous_number=conversation.previous_conversation_id,
            outside_hours=conversation.outside_hours,
        )

    async def card_content(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> tuple[str, dict[str, Any] | None]:
        """The caption and buttons the card should show now."""
        view = await self.card_view(session, conversation, customer)
        caption = render_card_html(view, self.language)
        if conversation.state == ConversationState.NEW:
            button = (
                text(self.language, "button.accept"),
                packed(AcceptCallback(conversation=view.number)),
            )
            return caption, calls.inline_keyboard([[button]])
        if (
            conversation.state == ConversationState.ACCEPTED
            and self.place_ready(conversation)
            and self.group(conversation).mode != "private"  # no link to a private chat
        ):
            caption += "\n" + link_html(
                self.place_link(conversation), text(self.language, "card.open_link")
            )
        return caption, None

    async def post_card(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        group = self.group(conversation)
        if group.mode == "private":
            await follow_claimer(self, session, conversation, customer)  # back in the feed
        caption, markup = await self.card_content(session, conversation, customer)
        name = self.customer_name(customer)
        style = self.avatars.style_for(
            customer.name, channel=customer.channel, seed=f"customer:{customer.id}"
        )
        file_id = await get_avatar_file_id(session, style.key)
        png = None if file_id else await self.avatars.render_async(style)
        payload = calls.send_photo_upload(
            group.chat_id,
            png,
            file_id,
            caption,
            thread_id=group.incoming_topic,
            reply_markup=markup,
        )
        await self.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=f"tg:{group.chat_id}:card:{conversation.id}",
            kind="card",
            payload=payload,
            priority=outbox.PRIORITY_INQUIRY,
            handler=DeskHandler.CARD_POSTED,
            ctx={"avatar_key": style.key, "name": name},
        )

    async def update_card(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        group = self.group(conversation)
        if group.mode == "private":
            await follow_claimer(self, session, conversation, customer)
        if conversation.card_message_id is None:
            # The card is still queued: its completion handler re-renders it (completions.py).
            return
        caption, markup = await self.card_content(session, conversation, customer)
        await self.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=f"tg:{group.chat_id}:card:{conversation.id}",
            kind=outbox.KIND_EDIT,
            payload=calls.edit_caption(
                conversation.card_chat_id or group.chat_id,
                conversation.card_message_id,
                caption,
                markup,
            ),
            # A new inquiry's card folding in more messages waits its turn; what an operator
            # did to it (accepted, transferred, closed) shows before the storm's new cards.
            priority=outbox.PRIORITY_INQUIRY
            if conversation.state == ConversationState.NEW
            else outbox.PRIORITY_CARD_CHANGE,
            coalesce_key=f"card:{conversation.id}:{conversation.card_message_id}",
        )

    # --- the place ------------------------------------------------------------------------

    async def open_place(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        group = self.group(conversation)
        if group.mode == "private":
            await open_private_place(self, session, conversation, customer)
            return  # the history follows once the topic exists
        if group.mode == "topics" and conversation.topic_id is None:
            await self.enqueue(
                session,
                conversation,
                chat_id=group.chat_id,
                lane=self.place_lane(conversation),
                kind="topic",
                payload=calls.call(
                    "createForumTopic",
                    chat_id=group.chat_id,
                    name=topic_name(
                        self.customer_name(customer),
                        self.source_name(customer.channel),
                        self.language,
                    ),
                ),
                priority=outbox.PRIORITY_INTERACTIVE,
                handler=DeskHandler.TOPIC_CREATED,
            )
            return  # the history follows once the topic exists
        if group.mode == "topics":
            await self.enqueue(
                session,
                conversation,
                chat_id=group.chat_id,
                lane=self.place_lane(conversation),
                kind="call",
                payload=calls.call(
                    "reopenForumTopic",
                    chat_id=group.chat_id,
                    message_thread_id=conversation.topic_id,
                ),
                priority=outbox.PRIORITY_INTERACTIVE,
                handler=DeskHandler.TOPIC_REOPENED,
            )
        await self.post_history(session, conversation, customer)

    async def post_history(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        """The header and every customer message so far, into the place: what the operator
        who just accepted waits for, so it goes first (`PRIORITY_INTERACTIVE`), and as one post
        where it fits (the header is the first part of the merged history)."""
        assert conversation.id is not None
        name = self.customer_name(customer)
        header = text(
            self.language,
            "place.header",
            name=escaped_shortened(name, 64),
            source=escape(self.source_name(customer.channel)),
            number=conversation.id,
            operator=escape(conversation.operator_name or ""),
        )
        if conversation.previous_conversation_id:
            header += "\n" + text(
                self.language, "place.previous", number=conversation.previous_conversation_id
            )
        await self.notice(session, conversation, header, heading=True)
        for message in await conversation_messages(session, conversation.id):
            if message.direction == Direction.IN:
                await self.relay_inbound(
                    session,
                    conversation,
                    customer,
                    message,
                    kind="history",
                    priority=outbox.PRIORITY_INTERACTIVE,
                )

    async def relay_inbound(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
        *,
        kind: str = "customer_copy",
        priority: int = outbox.PRIORITY_RELAY,
    ) -> None:
        if not self.place_ready(conversation):
            return  # the topic is being created; its history will include this message
        group = self.group(conversation)
        chat_id, lane = group.chat_id, self.place_lane(conversation)
        thread_id = conversation.topic_id if group.mode == "topics" else None
        if group.mode == "private":
            place = await self.private_place(session, conversation)
            if place is None or place[0] != conversation.operator_id:
                return  # the claimer's topic is being made; its history will include this
            chat_id, thread_id = place
            lane = private_lane(chat_id, conversation)
        author = self.customer_name(customer) if group.mode == "replies" else None
        reply_to = conversation.card_message_id if group.mode == "replies" else None
        ctx = {"link": kind, "topic": thread_id}
        name = self.customer_name(customer)
        at = message.created_at.strftime("%H:%M")
        attachments = attachments_of(message)
        words = message.text or ""
        if _carried_as_caption(message, attachments, author):
            words = ""  # it goes once, under the media
        for piece in pieces(words, 3500) if words else []:
            html = customer_copy(piece, author=author, language=self.language)
            payload = calls.send_text(chat_id, html, thread_id=thread_id, reply_to=reply_to)
            payload["part"] = {"author": name, "at": at, "html": escape(piece)}
            await self.enqueue(
                session,
                conversation,
                chat_id=chat_id,
                lane=lane,
                kind=outbox.KIND_TEXT,
                payload=payload,
                priority=priority,
                coalesce_key=lane,
                handler=DeskHandler.COPY_POSTED,
                message_id=message.id,
                ctx=ctx,
            )
        same_bot = customer.channel == "telegram"
        for attachment in attachments:
            caption = (
                customer_copy(attachment.caption, author=author, limit=COPY_CAPTION_LIMIT)
                if (attachment.caption)
                else (customer_copy("", author=author) if author else None)
            )
            sent = calls.send_attachment(
                chat_id,
                attachment,
                caption,
                thread_id=thread_id,
                reply_to=reply_to,
                same_bot=same_bot,
            )
            if sent is not None:
                payload = sent
            else:
                label = message_summary("", [attachment.kind], self.language)
                payload = calls.send_text(
                    chat_id,
                    customer_copy(label, author=author),
                    thread_id=thread_id,
                    reply_to=reply_to,
                )
            await self.enqueue(
                session,
                conversation,
                chat_id=chat_id,
                lane=lane,
                kind="media",
                payload=payload,
                priority=priority,
                handler=DeskHandler.COPY_POSTED,
                message_id=message.id,
                ctx=ctx,
            )

    async def relay_edit(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        message: Message,
    ) -> None:
        """The customer edited a message: say so as a reply to its copy in the place, so the
        operator sees which message changed (the copy itself stays as it was relayed)."""
        html = text(
            self.language, "place.customer_edit", text=escaped_shortened(message.text or "", 3500)
        )
        copy = await self._place_copy(session, conversation, message)
        await self.notice(session, conversation, html, answering=copy)

    async def _place_copy(
        self, session: AsyncSession, conversation: Conversation, message: Message
    ) -> int | None:
        """The group message that shows `message` in the conversation's place."""
        if message.id is None or conversation.id is None:
            return None
        mode = self.group(conversation).mode
        topic = conversation.topic_id if mode in ("topics", "private") else None
        return await copy_showing(session, conversation.id, message.id, topic)

    async def notice(
        self,
        session: AsyncSession,
        conversation: Conversation,
        html: str,
        *,
        quiet: bool = False,
        answering: int | None = None,
        heading: bool = False,
    ) -> None:
        """Post `html` in the place; `quiet` posts it without a notification sound;
        `answering` is a group message in the place to reply to. `heading`: the header over
        the history that follows it in the same lane: an interactive text part the outbox
        merges with the history into one post (no link of its own, so the first copy in the
        post keeps its link for replies)."""
        group = self.group(conversation)
        chat_id, lane = group.chat_id, self.place_lane(conversation)
        if group.mode == "private":
            conversation = await get_conversation(session, conversation.id or 0) or conversation
            place = await self.private_place(session, conversation)
            if place is None:  # no topic (yet, or any more): say it under the card
                thread_id, reply_to = group.incoming_topic, conversation.card_message_id
                lane = f"tg:{group.chat_id}:conv:{conversation.id}"
            else:
                (chat_id, thread_id), reply_to = place, answering
                lane = private_lane(chat_id, conversation)
        elif group.mode == "topics" and conversation.topic_id is None:
            conversation = await get_conversation(session, conversation.id or 0) or conversation
        if group.mode == "private":
            pass  # chosen above
        elif group.mode == "topics" and conversation.topic_id is None:
            thread_id = group.incoming_topic  # no topic yet: say it in the feed
            reply_to = conversation.card_message_id
        elif group.mode == "topics":
            thread_id, reply_to = conversation.topic_id, answering
        else:
            thread_id, reply_to = None, answering or conversation.card_message_id
        payload = calls.send_text(chat_id, html, thread_id=thread_id, reply_to=reply_to)
        if quiet:
            payload["params"]["disable_notification"] = True
        if heading:
            payload["part"] = {"html": html, "raw": True}
            await self.enqueue(
                session,
                conversation,
                chat_id=chat_id,
                lane=lane,
                kind=outbox.KIND_TEXT,
                payload=payload,
                priority=outbox.PRIORITY_INTERACTIVE,
                coalesce_key=lane,
                ctx={"topic": thread_id},
            )
            return
        await self.enqueue(
            session,
            conversation,
            chat_id=chat_id,
            lane=lane,
            kind="notice",
            payload=payload,
            handler=DeskHandler.NOTICE_POSTED,
            ctx={"topic": thread_id},
        )

    async def notice_closed(
        self, session: AsyncSession, conversation: Conversation, html: str
    ) -> None:
        """`ClosedPlaceNotices` (issue 15, ratings): a notice about a closed conversation in
        its place. A closed topic takes no post from the bot (TOPIC_CLOSED), so it is reopened
        for the notice and closed again, unless the customer's newer conversation has it open."""
        group = self.group(conversation)
        topic = conversation.topic_id
        if group.mode != "topics" or topic is None:
            await self.notice(session, conversation, html)
            return
        from storage.conversations import find_open_conversation

        newer = await find_open_conversation(session, conversation.customer_id)
        if newer is not None and newer.state == ConversationState.ACCEPTED:
            await self.notice(session, conversation, html)  # the topic is open again
            return
        reopen = calls.call("reopenForumTopic", chat_id=group.chat_id, message_thread_id=topic)
        lane = self.place_lane(conversation)
        await self.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=lane,
            kind="call",
            payload=reopen,
            handler=DeskHandler.TOPIC_REOPENED,
        )
        await self.notice(session, conversation, html)
        await self.close_place(session, conversation)

    async def close_place(self, session: AsyncSession, conversation: Conversation) -> None:
        group = self.group(conversation)
        if group.mode == "private":
            await close_private_place(self, session, conversation)
            return
        if group.mode != "topics" or conversation.topic_id is None:
            return
        await self.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=self.place_lane(conversation),
            kind="call",
            payload=calls.call(
                "closeForumTopic", chat_id=group.chat_id, message_thread_id=conversation.topic_id
            ),
            handler=DeskHandler.TOPIC_CLOSED,
        )

    async def notify_operator(self, session: AsyncSession, operator_id: int, html: str) -> None:
        reachable = {op.id for op in await operators_reachable_in_private(session)}
        if operator_id not in reachable:
            return
        await self.enqueue(
            session,
            None,
            chat_id=operator_id,
            lane=f"tg:{operator_id}",
            kind="private",
            payload=calls.send_text(operator_id, html),
            priority=outbox.PRIORITY_REPLY,
        )

    async def ping_operators(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> None:
        """notify_private: a private ping with a link to the card, to each reachable operator."""
        group = self.group(conversation)
        if not group.notify_private:
            return
        html = text(
            self.language,
            "private.ping",
            number=conversation.id,
            name=escaped_shortened(self.customer_name(customer), 64),
            source=escape(self.source_name(customer.channel)),
            link=link_html(self.place_link(conversation), text(self.language, "card.open_link")),
        )
        for operator_id in await self._reachable_operators_of(session, group):
            await self.notify_operator(session, operator_id, html)

    async def _reachable_operators_of(
        self, session: AsyncSession, group: GroupConfig
    ) -> list[int]:
        """The group's operators who started the bot in private."""
        found = []
        for operator in await operators_reachable_in_private(session):
            # The configured list decides; without one, the groups they were seen in.
            if group.operators:
                allowed = group.allows(operator.id)
            else:
                allowed = group.name in await operator_groups(session, operator.id)
            if allowed:
                found.append(operator.id)
        return found

    # --- reminders (issue 15: bridge/core/desk.py RemindingDesk) ---------------------------

    async def remind_accept(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        *,
        waited: timedelta,
    ) -> None:
        """A post in the Incoming feed with a link to the card (lane `tg:<chat>:reminders`:
        reminders due together are merged into one post when the group's pace holds them),
        paced after the cards and the customers' messages; and private pings."""
        group = self.group(conversation)
        html = text(
            self.language,
            "reminder.accept",
            number=conversation.id,
            name=escaped_shortened(self.customer_name(customer), 64),
            source=escape(self.source_name(customer.channel)),
            waited=waited_text(waited, self.language),
            link=link_html(self.place_link(conversation), text(self.language, "card.open_link")),
        )
        lane = f"tg:{group.chat_id}:reminders"
        payload = calls.send_text(group.chat_id, html, thread_id=group.incoming_topic)
        payload["part"] = {"author": text(self.language, "reminder.author"), "html": html}
        await self.enqueue(
            session,
            conversation,
            chat_id=group.chat_id,
            lane=lane,
            kind=outbox.KIND_TEXT,
            payload=payload,
            priority=outbox.PRIORITY_DEFAULT,
            coalesce_key=lane,
        )
        for operator_id in await self._reachable_operators_of(session, group):
            await self.notify_operator(session, operator_id, html)

    async def remind_answer(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        *,
        waited: timedelta,
    ) -> None:
        """Privately to the claimer who started the bot; else a notice in the place."""
        operator = (
            await get_operator(session, conversation.operator_id)
            if conversation.operator_id is not None
            else None
        )
        if operator is not None and operator.private_chat_started:
            html = text(
                self.language,
                "reminder.answer",
                number=conversation.id,
                name=escaped_shortened(self.customer_name(customer), 64),
                source=escape(self.source_name(customer.channel)),
                waited=waited_text(waited, self.language),
                link=link_html(
                    self.place_link(conversation), text(self.language, "card.open_link")
                ),
            )
            await self.notify_operator(session, operator.id, html)
            return
        html = text(
            self.language,
            "reminder.answer_place",
            operator=escape(conversation.operator_name or ""),
            waited=waited_text(waited, self.language),
        )
        await self.notice(session, conversation, html)
