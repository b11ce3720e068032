"""The simulation's collector settings (src/polku/twin/gc_tuning.py) hold for the run and are undone after.

Each check runs in a fresh interpreter: the freeze state is process-wide (the recommend handler
freezes its loaded model, as in its Lambda container).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = """
import gc, sys
from polku.twin import gc_tuning
if sys.argv[1] == "frozen-before":
    gc.freeze()
before_threshold, before_frozen = gc.get_threshold(), gc.get_freeze_count()
with gc_tuning.tuned():
    assert gc.get_threshold() == gc_tuning.THRESHOLD
    assert gc.get_freeze_count() >= max(before_frozen, 1)  # what was alive at the start is out of reach
    cycle = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1  # cycles made during the run are still collected
    if sys.argv[1] == "error":
        try:
            with gc_tuning.tuned():
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert gc.get_threshold() == gc_tuning.THRESHOLD  # the inner run restored the outer settings
assert gc.get_threshold() == before_threshold
if sys.argv[1] == "frozen-before":
    assert gc.get_freeze_count() >= before_frozen > 0  # someone else's freeze is left in place
else:
    assert gc.get_freeze_count() == 0
print("ok")
"""


@pytest.mark.parametrize("case", ["plain", "error", "frozen-before"])
def test_tuned_freezes_the_heap_and_restores_the_settings(case):
    import os

    import polku

    src = os.path.dirname(os.path.dirname(polku.__file__))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", CHECK, case], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"

