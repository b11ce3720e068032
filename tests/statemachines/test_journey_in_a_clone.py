"""In a clone (#17 points 1-2): `polku journeys new` scaffolds a journey that lint accepts and simulate
runs with its own new messages, and nothing but its ASL file, registry entry and message folder changed.

The clone is a copy of the repository's product files in a temporary folder; `polku` runs there
(PYTHONPATH names the clone's src/), so the new journey's files are the clone's, never the repository's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POLKU = str(Path(sys.executable).parent / "polku")
PARTS = ("src", "functions", "statemachines", "templates", "template.yaml")


@pytest.fixture
def clone(tmp_path) -> Path:
    root = tmp_path / "polku"
    root.mkdir()
    for part in PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, root / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, root / part)
    (root / "node_modules").symlink_to(REPO / "node_modules")  # the asl-validator lint runs
    return root


def _polku(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(clone / "src")}
    return subprocess.run([POLKU, *args], cwd=clone, env=env, capture_output=True, text=True, timeout=600)


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and "node_modules" not in p.parts and "__pycache__" not in p.parts}


def test_new_journey_in_a_clone_is_linted_and_simulated_with_its_own_messages(clone):
    before = _tree(clone)
    made = _polku(clone, "journeys", "new", "review_request", "--from", "cross_sell")
    assert made.returncode == 0, made.stderr
    assert str(clone / "statemachines" / "review_request.asl.json") in made.stdout  # the clone's, not the repository's

    # a marketer's own words in the new folder: simulate renders them, so the journey runs its own templates
    en = clone / "templates" / "messages" / "review_request" / "en.j2"
    en.write_text(en.read_text(encoding="utf-8").replace("{% block text %}\n", "{% block text %}\nReview time!\n", 1),
                  encoding="utf-8")
    lint = _polku(clone, "journeys", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "0 error(s)" in lint.stderr

    timeline = clone / "week.jsonl"
    timeline.write_text("\n".join(json.dumps(line) for line in [
        {"type": "identify", "customer_id": "ann", "ts": "2026-01-05T09:00:00Z",
         "properties": {"email": "ann@example.com", "consents": {"email": True}, "time_zone": "Europe/Helsinki"}},
        {"type": "purchase", "customer_id": "ann", "ts": "2026-01-05T10:00:00Z",
         "properties": {"order_id": "o-1", "revenue": 40, "items": [{"product_id": "p7", "quantity": 2, "price": 20}]}},
    ]) + "\n")
    sim = _polku(clone, "journeys", "simulate", "review_request", "--timeline", str(timeline), "--until",
                 "2026-01-20T00:00:00Z")
    assert sim.returncode == 0, sim.stderr[-3000:]
    story = [json.loads(line) for line in sim.stdout.splitlines()]
    messages = [h for h in story if h["kind"] == "message"]
    assert messages and all(h["template"] == "review_request" for h in messages), story
    assert any(h["status"] == "sent" and h["text"].startswith("Review time!") for h in messages), messages

    changed = {p for p, data in _tree(clone).items() if before.get(p) != data} - {"week.jsonl"}
    assert changed == {"statemachines/review_request.asl.json", "statemachines/registry.yaml",
                       *(f"templates/messages/review_request/{p.name}"
                         for p in (REPO / "templates" / "messages" / "cross_sell").iterdir())}


def test_a_copied_asl_file_and_a_registry_entry_are_a_journey_in_a_clone(clone):
    """Nothing else: no template.yaml, no Python, no message folder (it reuses welcome's messages)."""
    shutil.copy(clone / "statemachines" / "welcome.asl.json", clone / "statemachines" / "thank_you.asl.json")
    with (clone / "statemachines" / "registry.yaml").open("a", encoding="utf-8") as f:
        f.write("\n  thank_you:\n    description: Thanks after a survey.\n"
                "    trigger: {event: form_submit, where: {properties.form_id: survey}}\n    reentry: once\n")
    lint = _polku(clone, "journeys", "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    timeline = clone / "survey.jsonl"
    timeline.write_text("\n".join(json.dumps(line) for line in [
        {"type": "identify", "customer_id": "eve", "ts": "2026-01-05T09:00:00Z",
         "properties": {"email": "eve@example.com", "consents": {"email": True}, "time_zone": "Europe/Helsinki"}},
        {"type": "form_submit", "customer_id": "eve", "ts": "2026-01-05T10:00:00Z", "properties": {"form_id": "survey"}},
    ]) + "\n")
    sim = _polku(clone, "journeys", "simulate", "thank_you", "--timeline", str(timeline))
    assert sim.returncode == 0, sim.stderr[-3000:]
    story = [json.loads(line) for line in sim.stdout.splitlines()]
    assert story[0]["kind"] == "entered" and {h["journey"] for h in story} == {"thank_you"}
    assert any(h["kind"] == "message" and h["status"] == "sent" and h["template"] == "welcome" for h in story), story
