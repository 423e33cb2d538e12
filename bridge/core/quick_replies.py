"""Quick replies: `/t NAME` sends the admin's template `NAME` to the customer as the claimer's
answer; `/t` alone lists the templates.

A template (the config's `templates:`) is one text for every language or one per language;
the customer's language is used when the template has it, else the config's, else any.
`{name}` is the customer's first name: their profile's first name, else the first word of the
name they are known by, else "Guest N" in the template's language.

The text travels exactly like a typed answer (bridge/core/replies.py
`handle_operator_message`): stored as the claimer's message, queued through the customer's
outlet, its delivery and failures shown as for any reply, and `first_reply_at` set. The place
is told what was sent. Runs inside the caller's transaction and only enqueues.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bridge.core.cards import escape, escaped_shortened
from bridge.core.commands import CommandReply
from bridge.core.inbound import lock_conversation
from bridge.core.replies import OperatorMessage, handle_operator_message
from bridge.core.texts import normalize_language, text
from storage.customers import get_customer
from storage.models import ConversationState

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from bridge.core.desk import CustomerOutlet, Desk
    from storage.models import Conversation, Customer

#: Templates as the config holds them: name → {language: text}.
Templates = Mapping[str, Mapping[str, str]]
#: Characters of one template shown in the /t list (the whole list stays one message).
LIST_PREVIEW = 160
#: Templates the /t list shows at most.
LIST_LIMIT = 20


def first_name(customer: Customer, language: str) -> str:
    """How a template greets the customer: profile first name, first word of the name, or
    "Guest N" ("Гость N") in `language`."""
    profile = customer.profile or {}
    given = profile.get("first_name")
    if isinstance(given, str) and given.strip():
        return given.strip()
    if customer.name and customer.name.split():
        return customer.name.split()[0]
    return text(language, "guest", number=customer.guest_number or 0)


def pick_text(
    versions: Mapping[str, str], customer_language: str | None, default_language: str
) -> tuple[str, str]:
    """(language, text) of a template for this customer: theirs, the config's, or any."""
    wanted = [normalize_language(customer_language)] if customer_language else []
    for language in [*wanted, normalize_language(default_language), *sorted(versions)]:
        if language in versions:
            return language, versions[language]
    raise ValueError("a template without any text")


def find_template(templates: Templates, name: str) -> str | None:
    """The configured name `name` means (exact, else ignoring case), or None."""
    if name in templates:
        return name
    folded = {key.casefold(): key for key in templates}
    return folded.get(name.casefold())


def unknown_template(templates: Templates, name: str, language: str) -> CommandReply:
    """/t with a name that is not configured: say so, with the closest names (or all)."""
    lines = [text(language, "quick.unknown", name=escaped_shortened(name, 64))]
    folded = {key.casefold(): key for key in templates}
    close = difflib.get_close_matches(name.casefold(), list(folded), n=3, cutoff=0.5)
    close += [key for key in folded if name.casefold() in key and key not in close]
    if close:
        names = ", ".join(f"/t {escape(folded[key])}" for key in close[:3])
        lines.append(text(language, "quick.did_you_mean", names=names))
    elif templates:
        names = ", ".join(escape(key) for key in sorted(templates)[:LIST_LIMIT])
        lines.append(text(language, "quick.known", names=names))
    else:
        lines.append(text(language, "quick.none"))
    return CommandReply("\n".join(lines), ok=False)


def list_templates(templates: Templates, language: str) -> CommandReply:
    """/t alone: each template's name and text (the config language's), escaped."""
    if not templates:
        return CommandReply(text(language, "quick.none"))
    items = []
    for name in sorted(templates)[:LIST_LIMIT]:
        versions = templates[name]
        _, body = pick_text(versions, language, language)
        shown = escaped_shortened(body, LIST_PREVIEW)
        others = sorted(set(versions) - {normalize_language(language)})
        if any(versions[other] != body for other in others):
            shown += " (" + ", ".join(others) + ")"
        items.append(text(language, "quick.item", name=escape(name), text=shown))
    return CommandReply(text(language, "quick.list", items="\n".join(items)))


async def send_template(
    session: AsyncSession,
    conversation: Conversation,
    message: OperatorMessage,
    name: str,
    *,
    templates: Templates,
    desk: Desk,
    outlet: CustomerOutlet,
    language: str,
) -> CommandReply:
    """/t NAME by `message.operator_id`: the template to the customer as the claimer's reply.

    `message` is the operator's command message (its id keeps a repeated update from sending
    twice); its text is replaced by the template's. Refused unless the caller is the claimer.
    """
    assert conversation.id is not None
    conversation = await lock_conversation(session, conversation.id)
    if conversation.state == ConversationState.CLOSED:
        return CommandReply(text(language, "alert.closed"), ok=False)
    if conversation.state != ConversationState.ACCEPTED:
        return CommandReply(text(language, "quick.accept_first"), ok=False)
    if conversation.operator_id != message.operator_id:
        operator = escape(conversation.operator_name or "?")
        return CommandReply(text(language, "place.not_claimer", operator=operator), ok=False)
    found = find_template(templates, name)
    if found is None:
        return unknown_template(templates, name, language)
    customer = await get_customer(session, conversation.customer_id)
    assert customer is not None
    used, body = pick_text(templates[found], customer.language, language)
    reply = body.format(name=first_name(customer, used))
    status = await handle_operator_message(
        session,
        conversation,
        OperatorMessage(
            external_id=message.external_id,
            operator_id=message.operator_id,
            operator_name=message.operator_name,
            text=reply,
        ),
        desk=desk,
        outlet=outlet,
        language=language,
    )
    if status != "relayed":  # unreachable: the place was told; a repeat: said before
        return CommandReply("")
    sent = escaped_shortened(reply, 3500)
    return CommandReply(text(language, "quick.sent", name=escape(found), text=sent))
