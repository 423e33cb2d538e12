"""Button payloads stay within Telegram's 64 bytes and round-trip to typed values."""

from __future__ import annotations

from desk.callbacks import AcceptCallback, TransferCallback, packed

BIGGEST_ID = 2**63 - 1


def test_accept_button_round_trips_the_conversation_number() -> None:
    value = packed(AcceptCallback(conversation=123))
    assert AcceptCallback.unpack(value) == AcceptCallback(conversation=123)


def test_the_largest_ids_still_fit_in_64_bytes() -> None:
    value = packed(TransferCallback(conversation=BIGGEST_ID, operator=-BIGGEST_ID))
    assert len(value.encode()) <= 64
    assert TransferCallback.unpack(value).operator == -BIGGEST_ID


def test_buttons_posted_before_the_fields_were_named_still_parse() -> None:
    # Packed before the rename (fields `c` and `o`): the format is the prefix and the values.
    assert AcceptCallback.unpack("acc:123") == AcceptCallback(conversation=123)
    assert TransferCallback.unpack("trf:7:-42") == TransferCallback(conversation=7, operator=-42)
    assert packed(TransferCallback(conversation=7, operator=-42)) == "trf:7:-42"
