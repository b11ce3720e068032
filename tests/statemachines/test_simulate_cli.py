"""`polku journeys simulate` as a marketer runs it: a fresh twin per run, JSON lines out, byte-identical."""

import uuid
import json
import subprocess
import sys
from pathlib import Path

import pytest

from polku.journeys.simulate import TimelineError, parse_timeline

REPO = Path(__file__).resolve().parents[2]
TIMELINE = REPO / "tests" / "fixtures" / "timeline_abandoned_cart.jsonl"


def simulate(*args):
    return subprocess.run([str(Path(sys.executable).parent / "polku"), "journeys", "simulate", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_same_timeline_gives_byte_identical_output_and_the_expected_story():
    first = simulate("abandoned_cart", "--timeline", str(TIMELINE))
    second = simulate("abandoned_cart", "--timeline", str(TIMELINE), "--start", "2026-01-05T08:00:00Z")
    third = simulate("abandoned_cart", "--timeline", str(TIMELINE), "--start", "2026-01-05T08:00:00Z")
    assert first.returncode == 0, first.stderr[-2000:]
    assert second.stdout == third.stdout
    assert first.stdout == second.stdout  # the start only moves the clock before the first event
    split = simulate("abandoned_cart", "--timeline", str(TIMELINE), "--workers", "2")
    assert split.returncode == 0, split.stderr[-2000:]
    assert split.stdout == first.stdout  # ann and bob in two processes: the same bytes
    rows = [json.loads(line) for line in first.stdout.splitlines()]
    assert all(set(r) >= {"at", "customer_id", "kind"} for r in rows)
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)
    ann = [r for r in rows if r["customer_id"] == "ann"]  # anonymous add-to-cart, linked by identify
    bob = [r for r in rows if r["customer_id"] == "bob"]
    assert [r["kind"] for r in ann][0] == "entered" and ann[-1] == {**ann[-1], "kind": "exited", "reason": "completed"}
    assert [r["type"] for r in ann if r["kind"] == "action"] == ["OfferGranted", "OfferRevoked"]
    msgs = [r for r in ann if r["kind"] == "message"]
    assert [m["template"] for m in msgs] == ["abandoned_cart", "abandoned_cart"] and all(m["channel"] for m in msgs)
    assert bob[-1]["kind"] == "exited" and bob[-1]["reason"] == "goal"


def test_bad_timeline_and_unknown_journey_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "add_to_cart", "customer_id": "x", "ts": "2026-01-05T10:00:00Z"}\n{"type": "purchase"}\n')
    out = simulate("abandoned_cart", "--timeline", str(bad))
    assert out.returncode == 2 and "timeline line 2: field ts is required" in out.stderr
    out = simulate("no_such_journey", "--timeline", str(bad))
    assert out.returncode == 2 and "no journey 'no_such_journey'" in out.stderr
    out = simulate("abandoned_cart", "--timeline", str(TIMELINE), "--workers", "0")
    assert out.returncode == 2 and "--workers: must be 1 or more, got 0" in out.stderr


@pytest.mark.parametrize("line, message", [
    ("not json", "line 1: not JSON"),
    ('{"type": "x", "ts": "yesterday", "customer_id": "c"}', "line 1: field ts is not ISO-8601"),
    ('{"type": "x", "ts": "2026-01-05T10:00:00Z"}', "line 1: customer_id or anonymous_id is required"),
    ('{"type": "identify", "anonymous_id": "a", "ts": "2026-01-05T10:00:00Z"}', "line 1: an identify line needs customer_id"),
])
def test_timeline_errors_name_the_line(line, message):
    with pytest.raises(TimelineError, match=message):
        parse_timeline([line])


def test_timeline_is_sorted_by_time_and_ids_are_stable():
    lines = ['{"type": "b", "ts": "2026-01-05T11:00:00Z", "customer_id": "c"}',
             '{"type": "a", "ts": "2026-01-05T10:00:00Z", "customer_id": "c"}']
    events = parse_timeline(lines)
    assert [e.body["type"] for e in events] == ["a", "b"]
    assert [e.body["event_id"] for e in events] == [e.body["event_id"] for e in parse_timeline(lines)]


def test_summary_counts_per_journey():
    from polku.journeys.simulate import format_summary, summarize

    rows = [
        {"journey": "j", "kind": "entered", "customer_id": "a"}, {"journey": "j", "kind": "state", "state": "S"},
        {"journey": "j", "kind": "message", "state": "S", "status": "sent"},
        {"journey": "j", "kind": "action", "type": "OfferGranted"},
        {"journey": "j", "kind": "exited", "reason": "goal"},
        {"journey": "j", "kind": "entered", "customer_id": "b"}, {"journey": "j", "kind": "exited", "reason": "completed"},
    ]
    s = summarize(rows)["j"]
    assert s["entered"] == 2 and s["goal_rate"] == 0.5 and s["messages"] == {"S:sent": 1}
    assert s["actions"] == {"OfferGranted": 1} and s["states"] == {"S": 1}
    assert "j: entered 2, goal rate 50.0%" in format_summary({"j": s})


def test_demo_runs_several_journeys_over_instacart_shoppers(journey_twin):
    from polku import clock
    from polku.journeys import demo
    from polku.journeys.simulate import Simulation, parse_timeline, summarize

    lines = demo.timeline(4, 1, clock.parse_iso("2026-03-01T00:00:00Z"))
    # Own customer ids: other tests replay the same Instacart shoppers into the shared twin.
    tag = uuid.uuid4().hex[:6]
    lines = [line.replace('"ic-', f'"ic{tag}-') for line in lines]
    out = Simulation(demo.JOURNEYS, twin=journey_twin).run(parse_timeline(lines))
    s = summarize(out)
    assert {"abandoned_cart", "cross_sell"} <= set(s)
    assert s["abandoned_cart"]["exits"].get("goal", 0) == s["abandoned_cart"]["entered"]  # shoppers always buy
    assert s["cross_sell"]["entered"] >= 1
    assert [h["at"] for h in out] == sorted(h["at"] for h in out)
