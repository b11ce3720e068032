"""`polku journeys graph NAME --counts FILE.jsonl` on a simulation's output, as a marketer runs it
before publishing: the picture says what the planned journey would do to the timeline."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMELINE = REPO / "tests" / "fixtures" / "timeline_abandoned_cart.jsonl"
NS = "{http://www.w3.org/2000/svg}"


def polku(*args):
    return subprocess.run([str(Path(sys.executable).parent / "polku"), "journeys", *args],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_graph_counts_of_a_simulation(tmp_path):
    out = tmp_path / "out.jsonl"
    timeline = tmp_path / "timeline.jsonl"
    timeline.write_text(TIMELINE.read_text() + json.dumps(
        {"type": "email_click", "customer_id": "ann", "ts": "2026-01-05T23:00:00Z",
         "properties": {"message_id": "any", "url": "https://shop.example.com/p1"}}) + "\n")
    sim = polku("simulate", "abandoned_cart", "--timeline", str(timeline), "-o", str(out))
    assert sim.returncode == 0, sim.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    graph = polku("graph", "abandoned_cart", "--format", "svg", "--counts", str(out), "--timeline", str(timeline))
    assert graph.returncode == 0, graph.stderr[-2000:]
    texts = [t.text for t in ET.fromstring(graph.stdout).iter(f"{NS}text")]
    entered = sum(1 for r in rows if r["kind"] == "entered")
    exits = sorted(r["reason"] for r in rows if r["kind"] == "exited")
    assert entered == 2
    assert texts[0].startswith(f"abandoned_cart (simulation out.jsonl): {entered} entered, 0 in the journey now")
    assert all(f"{reason} {exits.count(reason)}" in texts[0] for reason in exits)
    start = texts.index("WaitBeforeReminder")
    assert texts[start + 2] == f"passed {entered} · here now 0"
    # Each Send box: what the simulation sent from it, and the rates of those messages.
    for state in ("SendReminder", "SendDiscount"):
        sent = sum(1 for r in rows if r["kind"] == "message" and r["state"] == state and r["status"] == "sent")
        box = texts[texts.index(state):]
        line = next(t for t in box if t.startswith("sent "))
        assert line.startswith(f"sent {sent}"), (state, line)
    # ann's click (23:00) follows her reminder and comes before her discount mail: the reminder's
    reminders = [r for r in rows if r["kind"] == "message" and r["state"] == "SendReminder" and r["status"] == "sent"]
    if any(r["customer_id"] == "ann" for r in reminders):
        box = texts[texts.index("SendReminder"):]
        rate = f"{100 / len(reminders):.0f}%"
        line = next(t for t in box if t.startswith("sent "))
        assert line.startswith(f"sent {len(reminders)} · open {rate} · click {rate}"), line
    mermaid = polku("graph", "abandoned_cart", "--counts", str(out))
    assert mermaid.returncode == 0 and f"passed {entered} · here now 0" in mermaid.stdout


def test_graph_counts_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind": "entered", "customer_id": "a", "journey": "welcome"}\nnot json\n')
    out = polku("graph", "welcome", "--counts", str(bad))
    assert out.returncode == 2 and "bad.jsonl line 2: not JSON" in out.stderr
    other = tmp_path / "other.jsonl"
    other.write_text('{"kind": "entered", "customer_id": "a", "journey": "welcome"}\n')
    out = polku("graph", "abandoned_cart", "--counts", str(other))
    assert out.returncode == 2 and "has no happening of journey abandoned_cart (it has: welcome)" in out.stderr
    out = polku("graph", "welcome", "--timeline", str(TIMELINE))
    assert out.returncode == 2 and "--timeline: only with --counts FILE.jsonl" in out.stderr
    out = polku("graph", "welcome", "--counts", str(tmp_path / "missing.jsonl"))
    assert out.returncode == 2 and "--counts: cannot read" in out.stderr
