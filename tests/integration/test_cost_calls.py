"""benchmarks/cost_calls.json (the AWS calls docs/cost.md prices) is what the handlers do now: the
same runs on the twin count the same calls. When a handler adds or drops a call, this fails; run
``.venv/bin/python benchmarks/cost_model.py --measure`` and commit both files."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.twin

REPO = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("bench_cost_calls", REPO / "benchmarks" / "cost_calls.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_recorded_calls_are_what_the_handlers_make_now(twin):
    calls = _module()
    measured = calls.measure(twin)
    recorded = calls.load()
    for part in ("tracked_event", "campaign_batch", *sorted(measured["journey_entries"])):
        now = measured[part] if part in measured else measured["journey_entries"][part]
        then = recorded.get(part) if part in measured else recorded["journey_entries"].get(part)
        assert now == then, (f"{part}: the handlers' calls changed; run .venv/bin/python benchmarks/cost_model.py "
                             f"--measure\nnow:  {now}\nthen: {then}")
    assert measured == recorded


def test_the_runs_reach_every_function_a_journey_task_names():
    """Send, the step, the wait and the offer functions and the recommender each ran at least once,
    so none of their costs is a guess."""
    entries = _module().load()["journey_entries"]
    ran = {fn for e in entries.values() for fn in e["invocations"]}
    assert {"SendFunction", "JourneyStepFunction", "WaitForEventFunction", "OfferFunction",
            "RecommendFunction"} <= ran, sorted(ran)
