"""The one place that finds the Instacart sample the demo, tests and benchmarks use.

The repository carries it as ``data/instacart.csv.gz`` (see ``data/README.md``: origin, columns,
how it was cut, terms). Nothing outside the repository is read.
"""

from __future__ import annotations

import csv
import gzip
import itertools
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
INSTACART = REPO / "data" / "instacart.csv.gz"


def instacart_path() -> Path:
    """The compressed CSV inside the repository; a clear error if the checkout lacks it."""
    if not INSTACART.is_file():
        raise FileNotFoundError(f"{INSTACART} is missing: it is part of the repository (see data/README.md)")
    return INSTACART


def instacart_rows(limit: int | None = None) -> list[dict]:
    """The sample's rows as dicts (all of them, or the first ``limit``)."""
    with gzip.open(instacart_path(), "rt", newline="", encoding="utf-8") as fh:
        return list(itertools.islice(csv.DictReader(fh), limit))
