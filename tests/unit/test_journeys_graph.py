import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from polku.journeys.definition import Definition
from polku.journeys.graph import mermaid, render

REPO = Path(__file__).resolve().parents[2]
FILES = sorted((REPO / "statemachines").glob("*.asl.json"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_mermaid_has_every_state_and_transition(path):
    d = Definition.parse(path.read_text())
    text = mermaid(d)
    assert text.startswith("flowchart TD")
    for name in d.states:
        assert f'"{name}<br/>' in text
    arrows = [line for line in text.splitlines() if "-->" in line or "-.->" in line]
    assert len(arrows) == len(d.edges) + 1 + sum(d.is_terminal(n) for n in d.states)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_svg_is_wellformed_with_one_box_per_state_and_deterministic(path):
    text = path.read_text()
    out = render(text, "svg", path.stem)
    root = ET.fromstring(out)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == len(Definition.parse(text).states)
    assert out == render(text, "svg", path.stem)


def test_welcome_graph_shows_branches_in_marketer_words():
    text = render((REPO / "statemachines" / "welcome.asl.json").read_text(), "mermaid")
    assert "wait for email_click up to 3 d" in text
    assert "|timed out|" in text and "|otherwise|" in text
    assert "send welcome (picks) + for_customer" in text


def test_unknown_format():
    with pytest.raises(ValueError):
        render((REPO / "statemachines" / "welcome.asl.json").read_text(), "png")
