"""``polku campaigns`` as a marketer runs it: lint the shipped files, preview on the twin, simulate on a
timeline (a fresh twin on a virtual clock; the journeys' message lines), send and redrive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from polku.campaigns import definition
from polku.cli.main import main
from tests.integration import campaign_helpers as h

pytestmark = pytest.mark.twin

REPO = Path(__file__).resolve().parents[2]
TIMELINE = REPO / "tests" / "fixtures" / "timeline_campaign.jsonl"


def polku(*args):
    return subprocess.run([str(Path(sys.executable).parent / "polku"), *args], capture_output=True, text=True, cwd=REPO,
                          timeout=300)


def test_simulate_the_shipped_campaign_on_a_timeline(tmp_path):
    r = polku("campaigns", "simulate", "spring_newsletter", "--timeline", str(TIMELINE), "--outbox", str(tmp_path))
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    # Coffee buyers with e-mail consent who have not bought for 30 days, at 09:00 where they live:
    # not Tess (tea), Nina (no consent) or Rita (bought coffee four days ago).
    assert [(x["customer_id"], x["at"], x["status"]) for x in lines] == [
        ("anna", "2026-04-14T06:00:00.000Z", "sent"),
        ("petr", "2026-04-14T07:00:00.000Z", "sent"),
        ("john", "2026-04-14T13:00:00.000Z", "sent")]
    assert {x["kind"] for x in lines} == {"message"} and {x["journey"] for x in lines} == {"campaign:spring_newsletter"}
    by = {x["customer_id"]: x for x in lines}
    for x in lines:  # the subject and text of what was delivered; variant B names the customer
        first = x["customer_id"].capitalize()
        assert x["subject"] == (f"{first}, your spring coffee is here" if x["variant"] == "B"
                                else "New spring roasts at Polku Shop")
        assert f"Hello {first}," in x["text"] and "spring roasts" in x["text"]
    assert by["john"]["variant"] == "A" and by["anna"]["variant"] == "B"
    assert len(list(tmp_path.glob("*.html"))) >= 3  # the outbox: one page per e-mail and the index


def test_lint_preview_send_and_redrive_on_the_twin(twin, tmp_path, capsys, virtual_clock):
    h.move_clock(virtual_clock, "2026-04-14T07:00:00Z")
    assert polku("campaigns", "lint").returncode == 0
    tag = h.tag()
    h.audience(tag, 12)
    seg_dir, camp_dir = tmp_path / "segments", tmp_path / "campaigns"
    seg_dir.mkdir()
    camp_dir.mkdir()
    (seg_dir / f"seg_{tag}.yaml").write_text(json.dumps({"name": f"seg_{tag}", "all": [
        {"trait": {"name": "batch", "eq": tag}}, {"consent": "email"}]}))
    camp = {"name": f"c_{tag}", "segment": f"seg_{tag}", "template": "spring_newsletter", "channel": "email",
            "send": {"at": "2026-01-01T10:00:00Z"}, "variants": {"A": 0.5, "B": 0.5}, "holdout": 0}
    (camp_dir / f"c_{tag}.yaml").write_text(json.dumps(camp))
    dirs = ["--dir", str(camp_dir), "--segments-dir", str(seg_dir)]
    api = ["--endpoint", twin.api_url]

    assert main(api + ["campaigns", "preview", f"c_{tag}", *dirs]) == 0
    out = capsys.readouterr().out
    assert f"segment seg_{tag}: 12 customer(s) now" in out
    assert f"recipient {tag}-00000" in out and "Subject: " in out and "Hello N0," in out

    assert main(api + ["campaigns", "send", f"c_{tag}", "--run", "one", "--wait", *dirs]) == 0
    plan = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert plan == {"audience": 12, "holdout": 0, "recipients": 12, "wave_count": 1}
    assert sorted(h.per_customer(definition.parse(camp)).values()) == [1] * 12
    assert main(api + ["campaigns", "send", f"c_{tag}", "--run", "one", *dirs]) == 2  # a run is sent once
    assert "was started before" in capsys.readouterr().err
    assert main(api + ["campaigns", "redrive", f"c_{tag}", "--run", "one"]) == 2  # it did not fail
    assert "ExecutionNotRedrivable" in capsys.readouterr().err


def test_lint_names_what_is_wrong(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text(json.dumps({
        "name": "bad", "segment": "nope", "template": "spring_newsletter", "send": {"local_time": "2026-04-14T23:00"},
        "recommend": {"strategy": "psychic"}}))
    (tmp_path / "same.yaml").write_text(json.dumps({
        "name": "same", "segment": "lapsed_coffee_lovers", "template": "nurture", "send": {"at": "2026-04-14T07:00:00Z"},
        "variants": {"A": 0.5, "B": 0.5}}))
    (tmp_path / "broken.yaml").write_text("name: broken\nsegment: x\ntemplate: y\nsend: {at: yesterday}\n")
    assert main(["campaigns", "lint", "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "bad.yaml: error: segment: segment 'nope': no file nope.yaml" in out
    assert "bad.yaml: error: recommend.strategy: one of" in out
    assert "bad.yaml: error: send.local_time: 23:00 is in the quiet hours" in out
    assert "same.yaml: error: variants: A and B send the same email message in en" in out
    assert "broken.yaml: error: broken.yaml: send.at: not an ISO-8601 time: 'yesterday'" in out
