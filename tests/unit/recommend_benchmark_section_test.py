"""benchmarks/recommend.py replaces only its own section of docs/benchmarks.md."""

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("bench_recommend", REPO / "benchmarks" / "recommend.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DOC", tmp_path / "benchmarks.md")
    return module


@pytest.mark.parametrize("start_marker", [True, False], ids=["with-start-marker", "start-marker-lost"])
def test_write_section_replaces_the_section_and_nothing_else(bench, start_marker):
    before = "# Benchmarks\n\n## Twin\nfast\n\n"
    old = ("<!-- recommend:start -->\n" if start_marker else "") + "## Recommendations\nold figures\n<!-- recommend:end -->"
    after = "\n\n<!-- ingest:start -->\n## Ingest\nx\n<!-- ingest:end -->\n"
    bench.DOC.write_text(before + old + after)
    for _ in range(2):  # idempotent: a second run replaces, never appends
        bench.write_section(["new figures"])
        text = bench.DOC.read_text()
        assert text == before + "<!-- recommend:start -->\n## Recommendations\n\nnew figures\n<!-- recommend:end -->" + after
