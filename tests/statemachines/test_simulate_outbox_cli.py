"""`polku journeys simulate` shows what a marketer reads: each message line carries the subject and
text, ``--outbox`` writes the messages as the demo's outbox does, and a journey the twin lacks is
one clear line (issue 15, point 10 and deliver 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TIMELINE = REPO / "tests" / "fixtures" / "timeline_abandoned_cart.jsonl"


def test_message_lines_carry_subject_and_text_and_the_outbox_holds_html_and_text(tmp_path):
    outbox = tmp_path / "outbox"
    run = subprocess.run([str(Path(sys.executable).parent / "polku"), "journeys", "simulate", "abandoned_cart",
                          "--timeline", str(TIMELINE), "--outbox", str(outbox)],
                         capture_output=True, text=True, cwd=REPO, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    sent = [r for r in rows if r["kind"] == "message" and r["status"] == "sent"]
    assert sent and all(r["subject"] and r["text"] for r in sent)
    bob = next(r for r in sent if r["customer_id"] == "bob")
    assert bob["subject"] == "Your cart is waiting" and "- 2 x p2, €5.00" in bob["text"]
    assert "/v1/c/" not in bob["text"] and "[unsubscribe]" in bob["text"]  # links as a reader follows them
    discount = next(r for r in sent if r["state"] == "SendDiscount")
    assert "code CART15" in discount["subject"]
    files = sorted(p.name for p in outbox.iterdir())
    assert "index.html" in files
    html_files = [f for f in files if f.endswith(".html") and f != "index.html"]
    assert len(html_files) == len(sent) and all(f.replace(".html", ".txt") in files for f in html_files)
    index = (outbox / "index.html").read_text()
    assert all(r["subject"] in index for r in sent)
    texts = [(outbox / f.replace(".html", ".txt")).read_text() for f in html_files]
    assert any("In your cart:" in t and "CART15" in t for t in texts)
    assert "outbox with 3 e-mail(s)" in run.stderr


def test_a_journey_the_twin_lacks_is_one_clear_line(monkeypatch, capsys):
    from polku.cli.main import main
    from polku.journeys import simulate

    def lacking(self, events, start=None, until=None):
        raise simulate.SimulationError("journey ghost: the twin has no state machine polku-local-ghost")

    monkeypatch.setattr(simulate.Simulation, "run", lacking)
    assert main(["journeys", "simulate", "abandoned_cart", "--timeline", str(TIMELINE)]) == 2
    err = capsys.readouterr().err
    assert "journey ghost: the twin has no state machine" in err and "Traceback" not in err
