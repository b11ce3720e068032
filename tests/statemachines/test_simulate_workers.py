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

from tests.statemachines.conftest import cart_line, identify_line

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


TIMELINE = [
    identify_line("ann", "2026-01-05T09:00:00Z", anon="a-ann", time_zone="Europe/Helsinki"),
    {"type": "page_view", "anonymous_id": "a-ann", "ts": "2026-01-05T08:30:00Z",
     "properties": {"url": "https://shop.example.com/"}},  # before ann is identified
    cart_line("2026-01-05T10:00:00Z", "p1", anonymous_id="a-ann"),  # anonymous, linked to ann
    identify_line("bob", "2026-01-05T09:30:00Z"),
    cart_line("2026-01-05T11:00:00Z", "p2", customer_id="bob"),
    {"type": "purchase", "customer_id": "bob", "ts": "2026-01-06T12:00:00Z",
     "properties": {"order_id": "o-bob", "revenue": 10, "items": [{"product_id": "p2", "quantity": 1, "price": 10}]}},
    identify_line("carl", "2026-01-05T10:00:00Z", time_zone="Europe/Prague"),
    cart_line("2026-01-05T10:05:00Z", "p3", customer_id="carl"),
    identify_line("dora", "2026-01-05T07:00:00Z", birthday="1990-01-06"),
    identify_line("eve", "2026-01-05T11:00:00Z"),
    cart_line("2026-01-05T11:00:00Z", "p1", customer_id="eve"),  # same time as her identify and as bob's cart
]


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
