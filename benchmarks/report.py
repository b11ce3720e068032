"""Write one benchmark's section into docs/benchmarks.md (sections are replaced, others kept)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every figure here is written by a script in `benchmarks/` (`make bench` runs them all). Targets are
checked as ratios against a baseline measured in the same run, never as timed assertions in tests.
"""


def write_section(title: str, body: str) -> None:
    text = DOC.read_text() if DOC.exists() else HEADER
    block = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: block + "\n", text)
    else:
        text = text.rstrip() + "\n\n" + block
    DOC.write_text(text.rstrip() + "\n")


def cpu_model() -> str:
    """The processor the figures were measured on ("AMD EPYC (family 26, model 2)"), from
    /proc/cpuinfo; rates and wall times depend on it, so every report names it."""
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        import platform

        return platform.processor() or platform.machine()
    name = fields.get("model name") or fields.get("Model") or "unknown CPU"
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    return name
