"""Garbage-collector settings for long runs on the twin (a journey simulation): fewer, cheaper passes.

CPython collects its youngest generation every 700 net allocations and the whole heap after ten
of the middle one's passes. A twin process holds a few million long-lived objects (botocore and
moto service models, the backends' items and executions), and every full pass walks all of them:
measured, 12 % of a 60-customer simulation's CPU and 1.3 s of a twin's 6.7 s start-up were the
collector. ``tuned()`` moves the objects alive when a run starts (imports, the provisioned twin)
out of the collector's reach (``gc.freeze``) and collects the young generation every 10,000
allocations instead of 700; both are undone afterwards. Only when cyclic garbage is freed
changes: reference counting still frees every other object at once, cycles are still collected,
and nothing in Polku depends on when a finalizer runs.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

THRESHOLD = (10_000, 10, 10)  # young generation every 10,000 allocations; older ones as CPython's default


def apply_threshold() -> None:
    """For a process that exists only to run the twin (a simulation worker): set it at its start."""
    gc.set_threshold(*THRESHOLD)


@contextmanager
def tuned():
    """The settings for the duration of a run. The heap is unfrozen afterwards only if nothing was
    frozen before (the recommend handler freezes its loaded model, as in its Lambda container;
    what it froze cannot be told apart from the rest, so then everything stays frozen)."""
    previous = gc.get_threshold()
    was_frozen = gc.get_freeze_count() > 0
    gc.freeze()
    gc.set_threshold(*THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        if not was_frozen:
            gc.unfreeze()
