"""Every journey definition passes asl-validator (npm); broken definitions are caught."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VALIDATOR = REPO / "node_modules" / ".bin" / "asl-validator"
BROKEN = sorted((REPO / "tests" / "fixtures" / "asl").glob("broken_*.asl.json"))


def validate(path: Path) -> subprocess.CompletedProcess:
    assert VALIDATOR.exists(), "npm asl-validator missing: run `npm ci` (make does)"
    return subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("path", sorted((REPO / "statemachines").glob("*.asl.json")), ids=lambda p: p.name)
def test_journey_definition_is_valid(path):
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "path,expected",
    [
        (REPO / "tests/fixtures/asl/broken_missing_next.asl.json", "MISSING_TRANSITION_TARGET"),
        (REPO / "tests/fixtures/asl/broken_choice_without_choices.asl.json", "SCHEMA_VALIDATION_FAILED"),
    ],
    ids=["missing-next", "choice-without-choices"],
)
def test_broken_definition_is_caught(path, expected):
    result = validate(path)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
