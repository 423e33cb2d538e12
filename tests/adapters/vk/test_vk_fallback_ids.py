"""VK messages that come without an id are told apart by dialog: their fallback id, the
per-dialog `conversation_message_id`, is scoped by the peer (the whole bridge, fake VK)."""

from __future__ import annotations

from adapters.common.updates import InboundUpdate
from adapters.vk.convert import convert_event
from tests.adapters.contract.harness import Bridge, VkCustomer, eventually, running_bridge


class IdlessVkCustomer(VkCustomer):
    """A VK customer whose client reports every message with id 0."""

    async def says(self, text: str) -> None:
        self.sent.append(
            await self.bridge.vk.customer_message(self.user_id, text, without_id=True)
        )


class Olga(IdlessVkCustomer):
    user_id = 502


async def test_two_customers_with_the_same_conversation_message_id_are_both_shown(
    sqlite_url: str,
) -> None:
    async with running_bridge(sqlite_url) as bridge:
        maria, olga = IdlessVkCustomer(bridge), Olga(bridge, name="Olga Ivanova")
        await maria.says("my parcel is late")
        await olga.says("I need an invoice")
        cmids = [c.sent[-1]["conversation_message_id"] for c in (maria, olga)]
        assert cmids == [1, 1] and [c.sent[-1]["id"] for c in (maria, olga)] == [0, 0]

        def both_cards() -> list[str]:
            captions = [m.caption or "" for m in bridge.cards()]
            shown = [c for c in captions if "my parcel is late" in c or "I need an invoice" in c]
            return shown if len(shown) == 2 else []

        await eventually(both_cards, what="a card for each customer")
        assert (await bridge.stored_rows())["messages"] == 2

        # Olga edits her message: the edit reaches her card, Maria's stays as it was.
        await bridge.vk.customer_edits(olga.user_id, _internal_id(bridge, olga), "two invoices")

        def olga_edited() -> bool:
            captions = [m.caption or "" for m in bridge.cards()]
            return any("two invoices" in c for c in captions) and any(
                "my parcel is late" in c for c in captions
            )

        await eventually(olga_edited, what="Olga's card edited")


def _internal_id(bridge: Bridge, customer: VkCustomer) -> int:
    """The fake's own key of the customer's last message (its `id` field says 0)."""
    return next(
        key for key, message in bridge.vk.state.messages.items() if message is customer.sent[-1]
    )


def test_the_fallback_id_names_the_dialog_and_edits_point_at_it() -> None:
    def event(kind: str, peer: int, **extra: object) -> dict[str, object]:
        message: dict[str, object] = {"id": 0, "conversation_message_id": 7}
        message |= {"from_id": peer, "peer_id": peer}
        message |= {"date": 1_700_000_000, "text": "hi", **extra}
        obj = {"message": message} if kind == "message_new" else message
        return {"type": kind, "object": obj, "group_id": 77}

    [new] = convert_event(event("message_new", 501))
    [edit] = convert_event(event("message_edit", 501, update_time=1_700_000_100))
    [other] = convert_event(event("message_new", 502))
    assert isinstance(new, InboundUpdate) and isinstance(edit, InboundUpdate)
    assert isinstance(other, InboundUpdate)
    assert new.event.external_id == "501:7" != other.event.external_id == "502:7"
    assert edit.event.edit_of == "501:7"
