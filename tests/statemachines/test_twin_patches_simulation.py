"""A journey simulation gives byte for byte the same output with the twin's speed patches on and off.

Each run starts a fresh twin in a subprocess (as `polku journeys simulate` does): one with every
patch (src/polku/twin/patches/), one with POLKU_TWIN_PATCHES=off (moto, botocore and PynamoDB as
they ship: every call signed and matched by moto's BotocoreStubber), one with only the direct lane
off (POLKU_TWIN_DIRECT=0). The timeline has a buyer (goal), customers who never buy, an
anonymous visitor linked by an identify and the scheduled birthday journey; the lane must have
served the calls of every service the journeys use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.statemachines.conftest import SHOPPERS

REPO = Path(__file__).resolve().parents[2]

RUN = textwrap.dedent("""
    import json, sys
    from polku.journeys.simulate import Simulation, dumps, parse_timeline
    from polku.twin import patches
    from polku.twin.patches import botocore_direct_lane as direct
    timeline, out = sys.argv[1], sys.argv[2]
    sim = Simulation(["abandoned_cart", "birthday"])
    rows = sim.run(parse_timeline(open(timeline).read().splitlines()))
    open(out, "w").write(dumps(rows))
    print(json.dumps({"enabled": direct.enabled(), "services": direct.state["services"],
                      "patches": patches.applied()}))
""")


TIMELINE = SHOPPERS


def _run(tmp_path, lane: bool, patches: str = "on"):
    timeline = tmp_path / "timeline.jsonl"
    timeline.write_text("".join(json.dumps(line) + "\n" for line in TIMELINE))
    out = tmp_path / f"out-{int(lane)}-{patches}.jsonl"
    env = {**os.environ, "POLKU_TWIN_DIRECT": "1" if lane else "0", "POLKU_TWIN_PATCHES": patches}
    proc = subprocess.run([sys.executable, "-c", RUN, str(timeline), str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    return out.read_bytes(), stats


def test_the_patches_give_the_same_simulation_byte_for_byte(tmp_path):
    from polku.twin.patches import SPEED

    bare, none = _run(tmp_path, lane=True, patches="off")
    stubbed, off = _run(tmp_path, lane=False)
    direct, on = _run(tmp_path, lane=True)
    assert none == {"enabled": False, "services": {}, "patches": []}
    assert on["patches"] == [p.name for p in SPEED]
    assert off["patches"] == [p.name for p in SPEED if p.name != "botocore_direct_lane"]
    assert {k: off[k] for k in ("enabled", "services")} == {"enabled": False, "services": {}}
    assert on["enabled"] is True
    assert {"dynamodb", "awslambda", "stepfunctions", "events"} <= set(on["services"]), on  # moto's names
    assert any(s in on["services"] for s in ("ses", "sesv2")), on
    assert direct == stubbed
    assert direct == bare  # all patches on == none at all
    rows = [json.loads(r) for r in direct.decode().splitlines()]
    exits = {(r["customer_id"], r["journey"]): r["reason"] for r in rows if r["kind"] == "exited"}
    assert exits == {("ann", "abandoned_cart"): "completed", ("bob", "abandoned_cart"): "goal",
                     ("carl", "abandoned_cart"): "completed", ("eve", "abandoned_cart"): "completed",
                     ("dora", "birthday"): "completed"}
    assert sum(r["kind"] == "message" for r in rows) >= 3
