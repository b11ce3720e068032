"""The journey as a live picture (issue #17, 3): one counting model (passed, here now, left and
why, a Send's open/click rates) and the SVG that draws it, whose geometry is checked: every label
fits its box, every edge stays on the canvas, no two boxes overlap."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from polku.journeys.counts import (JourneyCounts, StateCounts, attach_timeline_engagement, count, from_simulation,
                                   messages_from_happenings, read_happenings)
from polku.journeys.definition import Definition
from polku.journeys.graph import CHAR_W, MARGIN, W, count_lines, render

REPO = Path(__file__).resolve().parents[2]
FILES = sorted((REPO / "statemachines").glob("*.asl.json"))
NS = "{http://www.w3.org/2000/svg}"

ASL = json.dumps({"Comment": "t", "StartAt": "Hello", "States": {
    "Hello": {"Type": "Task", "Resource": "${SendFunctionArn}", "Parameters": {"template": "welcome"},
              "ResultPath": "$.hello_sent", "Next": "Deferred?"},
    "Deferred?": {"Type": "Choice", "Choices": [{"Variable": "$.hello_sent.status", "StringEquals": "deferred",
                                                 "Next": "WaitForSendAt"}], "Default": "Pause"},
    "WaitForSendAt": {"Type": "Wait", "TimestampPath": "$.hello_sent.send_at", "Next": "Hello"},
    "Pause": {"Type": "Wait", "Seconds": 86400, "Next": "Done"},
    "Done": {"Type": "Succeed"}}})


def h(at, cid, kind, **kw):
    return {"at": f"2026-01-05T{at}:00Z", "customer_id": cid, "journey": "j", "kind": kind, **kw}


HAPPENINGS = [
    # ann: deferred once (Hello twice), sent, then sleeps in Pause: here now
    h("10:00", "ann", "entered", variant="A"), h("10:00", "ann", "state", state="Hello"),
    h("10:00", "ann", "message", state="Hello", status="deferred", message_id="m-ann"),
    h("10:00", "ann", "state", state="Deferred?"), h("10:00", "ann", "state", state="WaitForSendAt"),
    h("11:00", "ann", "state", state="Hello"),
    h("11:00", "ann", "message", state="Hello", status="sent", message_id="m-ann", channel="email"),
    h("11:00", "ann", "state", state="Deferred?"), h("11:00", "ann", "state", state="Pause"),
    # bob: sent, left from Pause with the goal
    h("10:05", "bob", "entered", variant="B"), h("10:05", "bob", "state", state="Hello"),
    h("10:05", "bob", "message", state="Hello", status="sent", message_id="m-bob", channel="email"),
    h("10:05", "bob", "state", state="Deferred?"), h("10:05", "bob", "state", state="Pause"),
    h("12:00", "bob", "exited", reason="goal"),
    # cid: a run that ended (done), then a second run that failed at Hello
    h("09:00", "cid", "entered"), h("09:00", "cid", "state", state="Hello"),
    h("09:00", "cid", "message", state="Hello", status="skipped", message_id="m-cid"),
    h("09:00", "cid", "state", state="Deferred?"), h("09:00", "cid", "state", state="Pause"),
    h("09:30", "cid", "state", state="Done"), h("09:30", "cid", "exited", reason="completed"),
    h("13:00", "cid", "entered"), h("13:00", "cid", "state", state="Hello"),
    h("13:00", "cid", "exited", reason="failed"),
    # dan: holdout; eve: stopped by an exit event while waiting
    h("10:00", "dan", "entered", variant="holdout"), h("10:00", "dan", "exited", reason="holdout"),
    h("10:00", "eve", "entered"), h("10:00", "eve", "state", state="Hello"),
    h("10:00", "eve", "message", state="Hello", status="sent", message_id="m-eve", channel="email"),
    h("10:00", "eve", "state", state="Deferred?"), h("10:00", "eve", "state", state="Pause"),
    h("10:30", "eve", "exited", reason="stopped"),
    {**h("10:00", "zed", "entered"), "journey": "other"},
]


def counts() -> JourneyCounts:
    return count(Definition.parse(ASL), "j", HAPPENINGS)


def test_each_state_counts_runs_that_passed_stand_there_now_and_left_by_reason():
    c = counts()
    assert (c.entered, c.holdout, c.running) == (5, 1, 1)
    assert c.exits == {"goal": 1, "completed": 1, "failed": 1, "stopped": 1}
    hello, pause, done = c.states["Hello"], c.states["Pause"], c.states["Done"]
    assert hello.passed == 5  # ann's loop through the deferral counts once
    assert (hello.here, hello.left) == (0, {"failed": 1})
    assert (pause.passed, pause.here, pause.left) == (4, 1, {"goal": 1, "exit": 1})
    assert (done.passed, done.left) == (1, {"done": 1})
    assert c.states["WaitForSendAt"].passed == 1 and c.states["Deferred?"].sent is None
    assert hello.sent == 3 and (hello.opened, hello.clicked, hello.open_rate) == (0, 0, 0.0)
    assert hello.not_sent == 1  # cid's skipped message; ann's deferral was sent later


def test_timeline_opens_and_clicks_count_for_the_message_they_name_or_the_latest_before_them():
    timeline = [
        {"type": "email_open", "customer_id": "bob", "ts": "2026-01-05T10:30:00Z", "properties": {"message_id": "m1"}},
        {"type": "email_click", "customer_id": "bob", "ts": "2026-01-05T12:30:00+02:00",
         "properties": {"message_id": "m1", "url": "https://x"}},
        {"type": "email_open", "customer_id": "eve", "ts": "2026-01-05T09:00:00Z", "properties": {"message_id": "m1"}},
        {"type": "email_open", "customer_id": "ann", "ts": "2026-01-05T12:00:00Z", "properties": {"message_id": "m-ann"}},
        {"type": "purchase", "customer_id": "ann", "ts": "2026-01-05T12:00:00Z", "properties": {}},
    ]
    c = from_simulation(Definition.parse(ASL), "j", HAPPENINGS, timeline)
    hello = c.states["Hello"]
    # bob's open and click (10:30 UTC) follow his 10:05 mail; eve's open came before her mail; ann's names hers
    assert (hello.sent, hello.opened, hello.clicked) == (3, 2, 1)
    assert (hello.open_rate, hello.click_rate) == (round(2 / 3, 4), round(1 / 3, 4))
    msgs = messages_from_happenings(HAPPENINGS)
    attach_timeline_engagement(msgs, timeline)
    assert [m.message_id for m in msgs if m.clicked] == ["m-bob"]


def test_a_simulation_file_is_read_and_bad_lines_are_named():
    text = "".join(json.dumps(x) + "\n" for x in HAPPENINGS)
    assert read_happenings(text) == HAPPENINGS
    with pytest.raises(ValueError, match="out.jsonl line 2: not JSON"):
        read_happenings('{"kind": "entered", "customer_id": "a", "journey": "j"}\nnope\n', "out.jsonl")
    with pytest.raises(ValueError, match="line 1: not a simulation happening"):
        read_happenings('{"type": "add_to_cart"}\n')


def test_box_lines_say_passed_here_left_and_rates():
    c = counts()
    assert count_lines("Pause", c) == ["passed 4 · here now 1", "left: goal 1, exit 1"]
    assert count_lines("Hello", c) == ["passed 5 · here now 0", "left: failed 1", "sent 3 · open 0% · click 0% · not sent 1"]
    assert count_lines("Hello", None) == []


def test_mermaid_and_svg_show_the_counts():
    c = counts()
    assert "passed 4 · here now 1" in render(ASL, "mermaid", "j", c)
    shown = [t.text for t in ET.fromstring(render(ASL, "svg", "j", c)).iter(f"{NS}text")]
    assert "left: goal 1, exit 1" in shown and "sent 3 · open 0% · click 0% ·" in shown


# ---------------------------------------------------------------- geometry
def _numbers(d: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", d)]


def _text_width(t) -> float:
    size = t.get("font-size")
    per = CHAR_W["edge"] if size == "10" else CHAR_W["summary"] if size == "11" else CHAR_W["name"]
    return len(t.text or "") * per


def check_geometry(svg_text: str) -> None:
    root = ET.fromstring(svg_text)
    vx, vy, vw, vh = _numbers(root.get("viewBox"))
    rects = [tuple(float(r.get(k)) for k in ("x", "y", "width", "height")) for r in root.iter(f"{NS}rect")]
    assert rects
    for i, a in enumerate(rects):  # no two boxes overlap, every box on the canvas
        assert vx <= a[0] and a[0] + a[2] <= vx + vw and vy <= a[1] and a[1] + a[3] <= vy + vh, a
        for b in rects[i + 1:]:
            apart = a[0] + a[2] <= b[0] or b[0] + b[2] <= a[0] or a[1] + a[3] <= b[1] or b[1] + b[3] <= a[1]
            assert apart, (a, b)
    for p in root.iter(f"{NS}path"):  # every edge's points on the canvas
        if p.get("fill") == "#555":
            continue  # the arrow head marker's own coordinates
        nums = _numbers(p.get("d"))
        for x, y in zip(nums[0::2], nums[1::2]):
            assert vx <= x <= vx + vw and vy <= y <= vy + vh, p.get("d")
    for t in root.iter(f"{NS}text"):
        x, y, width = float(t.get("x")), float(t.get("y")), _text_width(t)
        if t.get("text-anchor") == "middle":  # a box's label: inside the box it is drawn on
            box = [r for r in rects if r[0] <= x <= r[0] + r[2] and r[1] < y <= r[1] + r[3]]
            assert len(box) == 1, (t.text, x, y)
            bx, _, bw, _ = box[0]
            assert bx + 2 <= x - width / 2 and x + width / 2 <= bx + bw - 2, (t.text, width, bw)
        else:
            assert vx <= x and x + width <= vx + vw, t.text


def big_counts(d: Definition) -> JourneyCounts:
    """The widest numbers a box may carry."""
    c = JourneyCounts("j", "test")
    for name, s in d.states.items():
        send = isinstance(s, dict) and s.get("Resource") == "${SendFunctionArn}"
        c.states[name] = StateCounts(passed=1234567, here=987654, left={"goal": 123456, "exit": 234567,
                                                                           "failed": 34567, "done": 456789},
                                     sent=1234567 if send else None, opened=1234567, clicked=617283,
                                     not_sent=7654321)
    return c


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_journey_with_counts_keeps_labels_in_boxes_and_edges_on_the_canvas(path):
    text = path.read_text()
    d = Definition.parse(text)
    check_geometry(render(text, "svg", f"{path.stem}: 1234567 entered, 987654 here now", big_counts(d)))
    check_geometry(render(text, "svg", path.stem))


def test_the_geometry_check_fails_on_a_label_wider_than_its_box():
    out = render(ASL, "svg", "j", counts())
    assert f'width="{W}"' in out
    with pytest.raises(AssertionError):
        check_geometry(out.replace(f'width="{W}"', f'width="{W // 3}"'))
    with pytest.raises(AssertionError):  # a box moved onto another
        first = re.search(r'<rect x="(\d+)" y="(\d+)"', out)
        second = re.findall(r'<rect x="\d+" y="\d+"', out)[1]
        check_geometry(out.replace(second, f'<rect x="{first.group(1)}" y="{first.group(2)}"', 1))
    assert MARGIN > 0
