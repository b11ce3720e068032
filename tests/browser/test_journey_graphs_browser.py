"""The report's journey graphs in real headless Chromium: every label, measured with the real
font, lies inside its box (or the canvas), for every shipped journey with the widest numbers a
box may carry; no console errors. (The unit geometry test uses estimated text widths; this
checks the estimate against a browser.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from polku.journeys.definition import Definition
from polku.journeys.graph import svg
from polku.reporting import figures, html_page, records

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import report_fixture  # noqa: E402
from unit.test_journeys_counts import big_counts  # noqa: E402

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]


def _page(tmp_path, squeeze: bool = False) -> Path:
    data = report_fixture.build("graphs1")
    fig = figures.compute([records.message_from_item(i) for i in data["messages"]],
                          [records.event_from_item(i) for i in data["events"]],
                          [r for r in (records.run_from_item(i) for i in data["runs"]) if r], set())
    pictures = []
    for path in sorted((REPO / "statemachines").glob("*.asl.json")):
        d = Definition.parse(path.read_text())
        c = big_counts(d)
        name = path.name.removesuffix(".asl.json")
        drawn = svg(d, f"{name}: 1234567 entered, 987654 in the journey now", c, marker=f"arrow-{name}")
        if squeeze:  # boxes a third narrower: labels must be found sticking out
            drawn = drawn.replace('width="210"', 'width="140"')
        pictures.append({"journey": name, "svg": drawn, "counts": c.to_dict()})
    return html_page.write(tmp_path / "report", fig, "2024-03-20T00:00:00.000Z", pictures)


def _measure(index: Path, tmp_path) -> dict:
    out = subprocess.run(["node", str(REPO / "tests" / "browser" / "journey_graph_check.mjs"), index.as_uri(),
                          str(tmp_path / "profile")], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_label_of_every_journey_graph_fits_its_box_in_chromium(tmp_path):
    result = _measure(_page(tmp_path), tmp_path)
    shipped = len(list((REPO / "statemachines").glob("*.asl.json")))
    assert result["graphs"] == shipped and result["labels"] > 20 * shipped
    assert result["outside"] == [], result["outside"][:5]
    assert result["consoleErrors"] == [] and result["pageErrors"] == [], result


def test_the_browser_check_finds_labels_that_stick_out(tmp_path):
    result = _measure(_page(tmp_path, squeeze=True), tmp_path)
    assert len(result["outside"]) > 10
