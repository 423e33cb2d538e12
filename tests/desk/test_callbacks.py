"""Button payloads stay within Telegram's 64 bytes and round-trip to typed values."""

from __future__ import annotations

from desk.callbacks import AcceptCallback, TransferCallback, packed

BIGGEST_ID = 2**63 - 1


def test_accept_button_round_trips_the_conversation_number() -> None:
    value = packed(AcceptCallback(c=123))
    assert AcceptCallback.unpack(value) == AcceptCallback(c=123)


def test_the_largest_ids_still_fit_in_64_bytes() -> None:
    value = packed(TransferCallback(c=BIGGEST_ID, o=-BIGGEST_ID))
    assert len(value.encode()) <= 64
    assert TransferCallback.unpack(value).o == -BIGGEST_ID
