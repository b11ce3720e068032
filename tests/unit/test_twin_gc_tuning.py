"""The simulation's collector settings (src/polku/twin/gc_tuning.py) are applied for the run and undone after."""

from __future__ import annotations

import gc

from polku.twin import gc_tuning


def test_tuned_freezes_the_heap_and_restores_the_settings():
    previous = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with gc_tuning.tuned():
        assert gc.get_threshold() == gc_tuning.THRESHOLD
        assert gc.get_freeze_count() > 0  # what was alive at the start is out of the collector's reach
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cycles made during the run are still collected
    assert gc.get_threshold() == previous
    assert gc.get_freeze_count() == 0


def test_tuned_restores_the_settings_after_an_error():
    previous = gc.get_threshold()
    try:
        with gc_tuning.tuned():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.get_threshold() == previous
    assert gc.get_freeze_count() == 0
