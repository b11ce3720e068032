"""`polku journeys graph --format svg`: no label is cut and every edge lies inside the canvas
(issue 15, point 10: "event_registere" was clipped, an edge of event_invitation ran off the picture)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from polku.journeys.definition import Definition
from polku.journeys.graph import CHAR_W, render, summary, wrap

REPO = Path(__file__).resolve().parents[2]
FILES = sorted((REPO / "statemachines").glob("*.asl.json"))
NS = "{http://www.w3.org/2000/svg}"


def _numbers(d: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_label_is_whole_and_every_edge_inside_the_canvas(path):
    text = path.read_text()
    root = ET.fromstring(render(text, "svg", path.stem))
    width, height = float(root.get("width")), float(root.get("height"))
    shown = " ".join(t.text or "" for t in root.iter(f"{NS}text"))
    d = Definition.parse(text)
    for name, s in d.states.items():
        for word in (name, *summary(name, s).split()):
            assert word.replace("_", "") in shown.replace("_", "").replace(" ", "") or word in shown, (name, word)
    for e in d.edges:
        if e.label:
            assert e.label in shown
    # Every path (a Bezier lies inside its control points' hull) is inside the canvas.
    for p in root.iter(f"{NS}path"):
        if p.get("fill") == "#555":
            continue  # the arrow head marker's own coordinates
        nums = _numbers(p.get("d"))
        xs, ys = nums[0::2], nums[1::2]
        assert 0 <= min(xs) and max(xs) <= width, (path.name, p.get("d"), width)
        assert 0 <= min(ys) and max(ys) <= height, (path.name, p.get("d"), height)
    # Every text fits the canvas, and a box's text fits its box.
    for t in root.iter(f"{NS}text"):
        x, chars = float(t.get("x")), len(t.text or "")
        size = CHAR_W["edge"] if t.get("font-size") == "10" else CHAR_W["name"]
        half = chars * size / 2 if t.get("text-anchor") == "middle" else 0
        assert x - half >= 0 and x + (chars * size if not half else half) <= width + 1, (path.name, t.text)


def test_the_invitation_shows_event_registered_in_full():
    out = render((REPO / "statemachines" / "event_invitation.asl.json").read_text(), "svg", "event_invitation")
    lines = [t.text for t in ET.fromstring(out).iter(f"{NS}text")]
    assert any("name=event_registered" in (line or "") for line in lines)


def test_wrap_keeps_words_and_durations_whole_and_breaks_long_names_at_underscores():
    assert wrap("wait for custom name=event_registered up to 7 d", 198, 6.4) == [
        "wait for custom", "name=event_registered up to", "7 d"]
    assert wrap("WaitForSendAt_SendConfirmation", 198, 7.4) == ["WaitForSendAt_", "SendConfirmation"]
