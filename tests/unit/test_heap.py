"""The long commands' objects frozen out of the collector, for the command only."""

from __future__ import annotations

import gc

from reminders.entrypoints.heap import set_up_objects_frozen


def test_objects_alive_before_are_frozen_for_the_block_only() -> None:
    assert gc.get_freeze_count() == 0
    alive = [object() for _ in range(10)]
    with set_up_objects_frozen():
        assert gc.get_freeze_count() >= len(alive)
    assert gc.get_freeze_count() == 0


def test_an_outer_freeze_stays() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with set_up_objects_frozen():
            pass
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
