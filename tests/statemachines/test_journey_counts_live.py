"""The journey as a live picture (issue #17, 3) on the twin: counts read from the executions and
the message log equal those of the simulation that made them, and `polku report` draws every
journey's graph with counts that match Step Functions (ListExecutions, not the report's code)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from polku.journeys.counts import count, from_simulation, live_happenings
from polku.journeys.definition import Definition
from polku.journeys.registry import load
from tests.statemachines.conftest import cart_line, identify_line

NS = "{http://www.w3.org/2000/svg}"
PATH_KINDS = ("entered", "state", "exited")


def _timeline(ann: str, bob: str) -> list[dict]:
    return [identify_line(ann, "2026-01-05T09:00:00Z"), cart_line("2026-01-05T10:00:00Z", "p1", customer_id=ann),
            identify_line(bob, "2026-01-05T09:30:00Z"), cart_line("2026-01-05T11:00:00Z", "p2", customer_id=bob),
            {"type": "purchase", "customer_id": bob, "ts": "2026-01-05T11:30:00Z",
             "properties": {"order_id": f"o-{bob}", "revenue": 10, "items": [{"product_id": "p2", "quantity": 1,
                                                                                "price": 10}]}},
            {"type": "email_open", "customer_id": ann, "ts": "2026-01-06T20:00:00Z", "properties": {"message_id": "m"}}]


def _path(rows: list[dict]) -> list[tuple]:
    return [(h["customer_id"], h["kind"], h.get("state"), h.get("reason")) for h in rows if h["kind"] in PATH_KINDS]


def test_live_counts_equal_the_simulation_that_made_the_runs(run_journey, journey_twin):
    from polku.data.messages import MessageModel
    from polku.reporting.records import message_from_item

    run = run_journey("abandoned_cart")
    ann, bob = run.cid("ann"), run.cid("bob")
    lines = _timeline(ann, bob)
    simulated = run(lines)
    j = load().get("abandoned_cart")
    d = Definition.parse((load().path.resolve().parent / j.file).read_text())
    prefix = journey_twin.outputs["StateMachinePrefix"]
    live = [h for h in live_happenings(journey_twin.client("stepfunctions"), j.state_machine_arn(prefix), j.name)
            if h["customer_id"] in (ann, bob)]
    assert _path(live) == _path(simulated) and _path(live)  # the same runs, read through the API
    logged = [message_from_item(m.attribute_values) for cid in (ann, bob)
              for m in MessageModel.scan(MessageModel.customer_id == cid)]
    by_log = count(d, j.name, live, logged).to_dict()
    by_sim = from_simulation(d, j.name, simulated).to_dict()
    for name, s in by_sim["states"].items():
        assert {k: by_log["states"][name][k] for k in ("passed", "here", "left", "sent")} == \
            {k: s[k] for k in ("passed", "here", "left", "sent")}, name
    assert by_sim["entered"] == by_log["entered"] == 2 and by_sim["exits"] == by_log["exits"]
    assert by_sim["states"][d.start]["passed"] == 2


def test_report_draws_every_journey_with_counts_matching_step_functions(run_journey, journey_twin, tmp_path):
    from polku.cli.main import main

    run = run_journey("abandoned_cart")
    run(_timeline(run.cid("ann"), run.cid("bob")))  # at least two runs to draw
    assert main(["--endpoint", journey_twin.api_url, "report", "--out", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    report = json.loads((tmp_path / "report.json").read_text())
    reg = load()
    sfn = journey_twin.client("stepfunctions")
    prefix = journey_twin.outputs["StateMachinePrefix"]
    assert set(report["journey_counts"]) == set(reg.journeys)
    for name, j in reg.journeys.items():
        svg = re.search(rf'<div class="card journey-graph" id="graph-{name}"[^>]*>(.*?)</div>', page, re.S)
        assert svg, name
        root = ET.fromstring(svg.group(1))
        executions = sum(len(p["executions"]) for p in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=j.state_machine_arn(prefix)))
        d = Definition.parse((reg.path.resolve().parent / j.file).read_text())
        start = [t.text for t in root.iter(f"{NS}text")]
        title = start[0]
        assert f"{name} (executions and message log): {executions} entered" in title, (title, executions)
        # every run enters the start state: its box says so
        first_box = start[start.index(d.start) + 1:]
        assert next(t for t in first_box if t.startswith("passed ")).startswith(f"passed {executions} ·"), name
        assert report["journey_counts"][name]["states"][d.start]["passed"] == executions
    assert report["journey_counts"]["abandoned_cart"]["entered"] >= 2


def test_graph_counts_live_from_the_twin(run_journey, journey_twin, tmp_path):
    from polku.cli.main import main

    run = run_journey("abandoned_cart")
    run(_timeline(run.cid("ann"), run.cid("bob")))
    out = tmp_path / "live.svg"
    assert main(["--endpoint", journey_twin.api_url, "journeys", "graph", "abandoned_cart", "--format", "svg",
                 "--counts", "-o", str(out)]) == 0
    j = load().get("abandoned_cart")
    executions = sum(len(p["executions"]) for p in journey_twin.client("stepfunctions").get_paginator(
        "list_executions").paginate(stateMachineArn=j.state_machine_arn(journey_twin.outputs["StateMachinePrefix"])))
    texts = [t.text for t in ET.fromstring(out.read_text()).iter(f"{NS}text")]
    assert texts[0].startswith(f"abandoned_cart (the local twin): {executions} entered"), texts[0]
    assert executions >= 2
