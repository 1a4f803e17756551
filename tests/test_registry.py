"""core.registry: how a lower app calls up into a higher one that connected at start-up."""

from __future__ import annotations

import pytest

from core.registry import Hooks, Slot


def test_hooks_call_each_handler_once_in_the_order_connected_and_return_their_answers():
    hooks: Hooks[[int]] = Hooks("test")
    double = hooks.connect(lambda value: value * 2)
    hooks.connect(lambda value: value + 1)
    hooks.connect(double)  # connected again: still once

    assert hooks.call(5) == [10, 6]
    hooks.disconnect(double)
    assert hooks.call(5) == [6]


def test_a_slot_gives_its_default_until_filled_and_refuses_a_second_provider():
    slot: Slot[str] = Slot("test", "default")
    assert slot.get() == "default"

    slot.fill("first")
    slot.fill("first")  # the same provider again is harmless

    assert slot.get() == "first"
    with pytest.raises(ValueError, match="already filled"):
        slot.fill("second")
    assert slot.get() == "first"
