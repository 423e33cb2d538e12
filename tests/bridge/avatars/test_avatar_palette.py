"""Palette: white initials readable on every colour; a stable colour per customer id."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bridge.avatars import GUEST_GREY, PALETTE, colour_for
from bridge.avatars.palette import WHITE, contrast_ratio


@pytest.mark.parametrize("colour", [*PALETTE, GUEST_GREY])
def test_white_text_meets_wcag_aa_contrast_on_every_background(colour: str) -> None:
    assert contrast_ratio(colour, WHITE) >= 4.5


def test_contrast_ratio_matches_the_wcag_extremes() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1.0)


def test_guest_grey_is_not_a_customer_colour() -> None:
    assert GUEST_GREY not in PALETTE


def test_same_id_gets_same_colour_in_another_process() -> None:
    code = "from bridge.avatars import colour_for; print(colour_for('customer-42'))"
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other == colour_for("customer-42")


def test_colours_vary_across_ids() -> None:
    colours = [colour_for(f"customer-{n}") for n in range(400)]
    counts = {c: colours.count(c) for c in PALETTE}
    assert all(count > 0 for count in counts.values())
    assert max(counts.values()) < 3 * len(colours) / len(PALETTE)


def test_bad_colour_text_is_refused() -> None:
    with pytest.raises(ValueError, match="#2563EB"):
        contrast_ratio("blue", WHITE)
