"""`polku journeys new NAME --from EXISTING` (#17 point 2): ASL, registry entry, message templates."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from polku.cli.main import main as polku
from polku.journeys import registry

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def clone(tmp_path) -> Path:
    """The parts of a clone a marketer edits: statemachines/ and templates/."""
    shutil.copytree(REPO / "statemachines", tmp_path / "statemachines")
    shutil.copytree(REPO / "templates", tmp_path / "templates")
    return tmp_path


def _new(clone: Path, name: str, source: str) -> int:
    return polku(["journeys", "new", name, "--from", source, "--statemachines", str(clone / "statemachines"),
                  "--templates", str(clone / "templates")])


def test_new_journey_from_cross_sell_is_scaffolded_and_lint_passes(clone, capsys):
    before = (clone / "statemachines" / "registry.yaml").read_text()
    assert _new(clone, "review_request", "cross_sell") == 0
    out = capsys.readouterr().out
    assert "review_request.asl.json" in out and "active: false" in out

    asl = json.loads((clone / "statemachines" / "review_request.asl.json").read_text())
    source = json.loads((REPO / "statemachines" / "cross_sell.asl.json").read_text())
    sends = [s for s in asl["States"].values() if (s.get("Parameters") or {}).get("template")]
    assert sends and all(s["Parameters"]["template"] == "review_request" for s in sends)
    assert set(asl["States"]) == set(source["States"])  # the same journey, its own messages
    copied = clone / "templates" / "messages" / "review_request"
    assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in (REPO / "templates" / "messages" / "cross_sell").iterdir())

    text = (clone / "statemachines" / "registry.yaml").read_text()
    assert text.startswith(before.rstrip("\n"))  # appended: the marketers' comments and entries stay as they were
    reg = registry.load(clone / "statemachines" / "registry.yaml")
    new, old = reg.get("review_request"), reg.get("cross_sell")
    assert (new.trigger, new.exit, new.reentry, new.split) == (old.trigger, old.exit, old.reentry, old.split)
    assert new.active is False and new.state_machine == "review-request" and new.file == "review_request.asl.json"

    # lint: the definitions, the registry and the templates Send steps name (the clone's)
    assert polku(["journeys", "lint", str(clone / "statemachines"), "--templates", str(clone / "templates")]) == 0
    assert "0 error(s)" in capsys.readouterr().err
    # without the new message folder the same lint refuses it: the scaffolded folder is what makes it pass
    shutil.rmtree(copied)
    assert polku(["journeys", "lint", str(clone / "statemachines"), "--templates", str(clone / "templates")]) == 1
    assert "unknown template 'review_request'" in capsys.readouterr().out


@pytest.mark.parametrize("name, source, message", [
    ("welcome", "cross_sell", "already in"),
    ("review_request", "no_such", "no journey 'no_such'"),
    ("Bad-Name", "cross_sell", "field name"),
])
def test_new_refuses_what_it_cannot_make_and_writes_nothing(clone, capsys, name, source, message):
    before = {p: p.read_bytes() for p in (clone / "statemachines").iterdir() if p.is_file()}
    assert _new(clone, name, source) == 2
    assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (clone / "statemachines").iterdir() if p.is_file()} == before
    assert not (clone / "templates" / "messages" / name).exists() or name == "welcome"
