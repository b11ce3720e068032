"""The static report in real headless Chromium: every chart renders, no console errors,
nothing fetched from the network (plotly.js is shipped beside the page)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from polku.reporting import figures, html_page, records

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import report_fixture  # noqa: E402

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[2]


def test_report_renders_in_chromium_without_errors(tmp_path):
    data = report_fixture.build("browser1")
    fig = figures.compute(
        [records.message_from_item(i) for i in data["messages"]],
        [records.event_from_item(i) for i in data["events"]],
        [r for r in (records.run_from_item(i) for i in data["runs"]) if r],
        {data["enrollment_id"]},
    )
    index = html_page.write(tmp_path / "report", fig, "2024-03-20T00:00:00.000Z")
    shot = tmp_path / "report.png"
    out = subprocess.run(
        ["node", str(REPO / "tests" / "browser" / "report_check.mjs"), index.as_uri(), str(shot),
         str(tmp_path / "profile")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["consoleErrors"] == [] and result["pageErrors"] == [], result
    assert result["failed"] == [] and result["external"] == [], result
    expected_charts = len(fig["funnel"]) + 9
    assert result["charts"] == result["rendered"] == expected_charts
    assert result["overflowing"] == [], result["overflowing"]
    assert result["rateRows"] == len(fig["rates"])
    assert any(t.startswith(f"{fig['totals']['sent']} sent") for t in result["tiles"]), result["tiles"]
    assert shot.stat().st_size > 50_000  # a real full-page screenshot, not an empty image
