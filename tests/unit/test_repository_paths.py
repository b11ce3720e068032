"""The repository is self-contained: nothing in src/, tests/, benchmarks/, functions/, the Makefile
or .ci/ names a path outside it (the Instacart sample used to be read from ../shared beside the
clone, and a user's clone has nothing beside it). A second guard at run time: tests/conftest.py's
audit hook fails any test that opens a file beside the repository."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = ["src", "tests", "benchmarks", "functions", "infra", ".ci", "Makefile"]
SUFFIXES = {".py", ".sh", ".mjs", ".js", ".yaml", ".yml", ".toml", ".json", ""}

# Patterns that reach outside the repository.
OUTSIDE = [
    (re.compile(r"""(Path|open|read_text|read_bytes|listdir|glob|chdir|cwd|--data)\W{0,3}\(?\s*f?["']\.\./|/\s*["']\.\.["']"""),
     "a relative path that climbs out (../)"),
    (re.compile(r"(?<![\w.])/work/"), "an absolute path of the build machine (/work/)"),
    (re.compile(r"""["']shared["']\s*/|/shared/data"""), "the workplace's shared folder"),
    (re.compile(r"\bREPO\.parent\b|\bcwd\(\)\.parent\b"), "the folder beside the repository"),
]
SKIP = {"__pycache__", "node_modules"}
ALLOWED = "# path-ok"  # a line that names such a path on purpose (a traversal test) says why after this
PARENTS = re.compile(r"Path\(__file__\)\.resolve\(\)\.parents\[(\d+)\]")


def _files() -> list[Path]:
    out = []
    for name in SCANNED:
        top = REPO / name
        if top.is_file():
            out.append(top)
            continue
        for path in top.rglob("*"):
            if path.is_file() and path.suffix in SUFFIXES and not SKIP.intersection(path.parts) \
                    and not path.parent.name.endswith(".egg-info"):
                out.append(path)
    return out


SHELL_CLIMB = re.compile(r"(?<![.\w])\.\./")  # in the Makefile and scripts any ../ climbs out of the repository root


def findings(path: Path, text: str) -> list[str]:
    """What in ``text`` (the file at ``path``) names something outside the repository.

    In Python a ``../`` counts where it is opened as a path (test data such as "../../etc/passwd"
    that the code must refuse is not a read); in the Makefile and scripts every ``../`` counts."""
    rel = path.relative_to(REPO)
    patterns = OUTSIDE if path.suffix == ".py" else [*OUTSIDE, (SHELL_CLIMB, "a relative path that climbs out (../)")]
    found = []
    for n, line in enumerate(text.splitlines(), 1):
        if ALLOWED in line:
            continue
        for pattern, why in patterns:
            if pattern.search(line):
                found.append(f"{rel}:{n}: {why}: {line.strip()[:100]}")
        for m in PARENTS.finditer(line):  # parents[k] of a file k+1 folders deep is the repository
            if int(m.group(1)) >= len(rel.parts) - 1 + 1:
                found.append(f"{rel}:{n}: parents[{m.group(1)}] climbs above the repository")
    return found


def test_nothing_names_a_path_outside_the_repository():
    problems = []
    for path in _files():
        if path == Path(__file__).resolve():
            continue  # this file names the patterns it looks for
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        problems += findings(path, text)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("line", [
    'DATA = REPO.parent / "shared" / "data" / "instacart.csv"',
    'data = Path("/work/shared/data/instacart.csv")',
    "open('../shared/data/instacart.csv')",
    'rows = Path("../data/instacart.csv").read_text()',
    'p = REPO / ".." / "x.csv"',
    'for p in (Path.cwd().parent / "x",): pass',
])
def test_the_scan_catches_the_old_ways(line):
    assert findings(REPO / "src" / "polku" / "x.py", line)


def test_parents_deeper_than_the_file_is_caught():
    ok = "REPO = Path(__file__).resolve().parents[3]"  # src/polku/demo/x.py -> the repository
    bad = "REPO = Path(__file__).resolve().parents[4]"
    assert findings(REPO / "src" / "polku" / "demo" / "x.py", ok) == []
    assert findings(REPO / "src" / "polku" / "demo" / "x.py", bad)


def test_the_run_time_guard_sees_an_open_beside_the_repository(outside_reads, tmp_path):
    beside = REPO.parent / "shared" / "data" / "instacart.csv"
    try:
        open(beside).close()
    except OSError:
        pass  # the audit hook fires before the open fails
    assert str(beside) in outside_reads
    outside_reads.clear()  # this test opened it on purpose


def test_the_sample_is_in_the_repository():
    from polku.demo.instacart_data import instacart_path, instacart_rows

    assert instacart_path().is_relative_to(REPO)
    rows = instacart_rows(5)
    assert len(rows) == 5 and set(rows[0]) >= {"order_id", "user_id", "product_id", "order_dow"}
    assert os.path.getsize(instacart_path()) < 2_000_000
