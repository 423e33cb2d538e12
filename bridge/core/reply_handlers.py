"""Outbox handler names of the replies to customers: a contract between outlets and the desk.

The customer outlets (adapters/telegram, adapters/site, adapters/common/outlet.py) enqueue an
operator's reply under one of these names; the desk registers what happens when the reply is
sent or fails for good (desk/completions.py, desk/customer_side.py). The names live in the
core because both sides need them and neither may import the other.
"""

from __future__ import annotations

from enum import StrEnum


class ReplyHandler(StrEnum):
    """What the desk does once a reply to a customer is sent (or failed)."""

    #: A Telegram or site reply: marked sent, where it landed recorded; a failure is shown.
    SENT = "customer.reply_sent"
    #: An operator's edit of a Telegram reply; a refused edit becomes a correction.
    EDIT_SENT = "customer.edit_sent"
    #: A VK, Viber or Facebook reply: the platform's ids kept for its delivery receipts.
    TRACKED = "customer.reply_tracked"
