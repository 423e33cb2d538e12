"""What the Send API refuses, as Graph errors (Messenger Send API reference).

Graph errors are HTTP 400 with `{error: {message, type, code, error_subcode?, fbtrace_id}}`.
"""

from __future__ import annotations

import secrets
from typing import Any

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
TAGS = ("HUMAN_AGENT", "ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE")
ATTACHMENT_TYPES = ("image", "video", "audio", "file", "template")
SENDER_ACTIONS = ("typing_on", "typing_off", "mark_seen")
MAX_TEXT = 2000
MAX_METADATA = 1000
STANDARD_WINDOW = 24 * 3600.0
HUMAN_AGENT_WINDOW = 7 * 24 * 3600.0


class GraphError(Exception):
    """A Graph API error; `as_json()` is the body Meta sends."""

    def __init__(
        self,
        code: int,
        message: str,
        subcode: int | None = None,
        kind: str = "OAuthException",
        http_status: int = 400,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.subcode = subcode
        self.kind = kind
        self.http_status = http_status

    def as_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = secrets.token_urlsafe(8)
        return {"error": error}


def param_error(message: str, subcode: int | None = None) -> GraphError:
    return GraphError(100, f"(#100) {message}", subcode)


def outside_window() -> GraphError:
    return GraphError(
        10,
        "(#10) This message is sent outside of allowed window. "
        "Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
        subcode=2018278,
    )


def check_send_body(body: dict[str, Any], with_file: bool = False) -> None:
    """Shape checks that do not depend on who the recipient is; `with_file`: the call carries
    the attachment's bytes as multipart `filedata` instead of a URL."""
    recipient = body.get("recipient")
    if not isinstance(recipient, dict) or not recipient.get("id"):
        raise param_error("The parameter recipient is required")
    message, action = body.get("message"), body.get("sender_action")
    if message is None and action is None:
        raise param_error("Must send either message or sender action")
    if message is not None and action is not None:
        raise param_error("Cannot send sender action with message")
    if action is not None:
        if action not in SENDER_ACTIONS:
            raise param_error(
                f"Param sender_action must be one of {{{', '.join(SENDER_ACTIONS)}}}"
            )
        return
    kind = body.get("messaging_type")
    if kind is None:
        raise param_error("The parameter messaging_type is required")
    if kind not in MESSAGING_TYPES:
        choices = ", ".join(MESSAGING_TYPES)
        raise param_error(f'Param messaging_type must be one of {{{choices}}} - got "{kind}"')
    tag = body.get("tag")
    if kind == "MESSAGE_TAG" and not tag:
        raise param_error("Tag is required for MESSAGE_TAG messaging type")
    if tag is not None and tag not in TAGS:
        raise param_error(f'Param tag must be one of {{{", ".join(TAGS)}}} - got "{tag}"')
    _check_message(message, with_file)


def _check_message(message: Any, with_file: bool) -> None:
    if not isinstance(message, dict):
        raise param_error("param message must be an object")
    text, attachment = message.get("text"), message.get("attachment")
    if text is None and attachment is None:
        raise param_error("Message cannot be empty, must provide valid attachment or text")
    if text is not None and attachment is not None:
        raise param_error("Only one of text or attachment can be specified")
    if text is not None:
        if not isinstance(text, str) or not text:
            raise param_error("param message[text] must be a non-empty UTF-8 encoded string")
        if len(text) > MAX_TEXT:
            raise param_error(
                f"Length of param message[text] must be less than or equal to {MAX_TEXT}"
            )
    if attachment is not None:
        _check_attachment(attachment, with_file)
    if message.get("quick_replies") is not None:
        _check_quick_replies(message["quick_replies"])
    metadata = message.get("metadata")
    if metadata is not None and len(str(metadata)) >= MAX_METADATA:
        raise param_error(f"Length of param message[metadata] must be less than {MAX_METADATA}")


#: Quick replies (developers.facebook.com "Quick Replies"): at most 13, a text one with a
#: title of at most 20 characters and a payload of at most 1000.
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TYPES = ("text", "user_phone_number", "user_email")


def _check_quick_replies(replies: Any) -> None:
    if not isinstance(replies, list) or not 0 < len(replies) <= MAX_QUICK_REPLIES:
        raise param_error(f"param message[quick_replies] must hold 1 to {MAX_QUICK_REPLIES}")
    for reply in replies:
        if not isinstance(reply, dict) or reply.get("content_type") not in QUICK_REPLY_TYPES:
            raise param_error("param message[quick_replies][content_type] is invalid")
        if reply["content_type"] != "text":
            continue
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not 0 < len(title) <= 20:
            raise param_error("param message[quick_replies][title] must be 1-20 characters")
        if not isinstance(payload, str | int) or len(str(payload)) > 1000:
            raise param_error("param message[quick_replies][payload] is required (≤ 1000)")


def _check_attachment(attachment: Any, with_file: bool) -> None:
    if not isinstance(attachment, dict) or attachment.get("type") not in ATTACHMENT_TYPES:
        choices = ", ".join(ATTACHMENT_TYPES)
        raise param_error(f"Param message[attachment][type] must be one of {{{choices}}}")
    payload = attachment.get("payload")
    if not isinstance(payload, dict):
        raise param_error("param message[attachment][payload] must be an object")
    if attachment["type"] == "template":
        return
    url, attachment_id = payload.get("url"), payload.get("attachment_id")
    given = sum(map(bool, (url, attachment_id, with_file)))
    if given == 0:
        raise param_error("Param message[attachment][payload][url] is required")
    if given > 1:
        raise param_error(
            "Give only one of message[attachment][payload][url], [attachment_id] or filedata"
        )
    if url and not str(url).startswith(("http://", "https://")):
        raise param_error("Param message[attachment][payload][url] must be a valid URL")


def check_window(body: dict[str, Any], last_customer_message: float | None, now: float) -> None:
    """The 24-hour standard window, and 7 days with the HUMAN_AGENT tag (code 10 / 2018278)."""
    if body.get("sender_action") is not None:
        return
    if last_customer_message is None:
        raise outside_window()
    age = now - last_customer_message
    tag = body.get("tag") if body.get("messaging_type") == "MESSAGE_TAG" else None
    if tag == "HUMAN_AGENT":
        if age > HUMAN_AGENT_WINDOW:
            raise outside_window()
    elif tag is None and age > STANDARD_WINDOW:
        raise outside_window()
