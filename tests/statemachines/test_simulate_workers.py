"""A simulation split over worker processes gives byte for byte the single-process output.

Both runs start fresh twins (subprocesses, as `polku journeys simulate` does); the timeline has
several customers of abandoned cart and of the scheduled birthday journey, an anonymous visitor
linked later by an identify, a buyer (goal) and customers who never buy (completed).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.statemachines.conftest import SHOPPERS

REPO = Path(__file__).resolve().parents[2]

RUN = textwrap.dedent("""
    import json, sys
    from polku.journeys.simulate import Simulation, dumps, parse_timeline, shard_timeline
    timeline, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    events = parse_timeline(open(timeline).read().splitlines())
    sim = Simulation(["abandoned_cart", "birthday"], workers=workers)
    rows = sim.run(events)
    open(out, "w").write(dumps(rows) + json.dumps({"rejected": sim.rejected,
                                                   "parts": len(shard_timeline(events, workers))}) + "\\n")
""")


TIMELINE = SHOPPERS


def _run(tmp_path, workers: int) -> str:
    timeline = tmp_path / "timeline.jsonl"
    timeline.write_text("".join(json.dumps(line) + "\n" for line in TIMELINE))
    out = tmp_path / f"out-{workers}.jsonl"
    proc = subprocess.run([sys.executable, "-c", RUN, str(timeline), str(workers), str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out.read_text()


def test_two_workers_give_the_single_process_output_byte_for_byte(tmp_path):
    single, sharded = _run(tmp_path, 1), _run(tmp_path, 2)
    *rows, meta = sharded.splitlines()
    assert json.loads(meta) == {"rejected": [], "parts": 2}
    assert sharded.splitlines()[:-1] == single.splitlines()[:-1]
    assert sharded.encode().split(b"\n")[:-2] == single.encode().split(b"\n")[:-2]
    rows = [json.loads(r) for r in rows]
    exits = {(r["customer_id"], r["journey"]): r["reason"] for r in rows if r["kind"] == "exited"}
    assert exits == {("ann", "abandoned_cart"): "completed", ("bob", "abandoned_cart"): "goal",
                     ("carl", "abandoned_cart"): "completed", ("eve", "abandoned_cart"): "completed",
                     ("dora", "birthday"): "completed"}
