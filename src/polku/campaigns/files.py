"""Segments and campaigns are YAML files named for themselves (``segments/<name>.yaml``,
``campaigns/<name>.yaml``): one way to find and read one, with errors that name the file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
ROOT = Path(__file__).resolve().parents[3]


def read(kind: str, name: str, folder: Path, error: type[Exception]) -> tuple[Any, str]:
    """The YAML document of ``<folder>/<name>.yaml`` and the file's name; ``error`` (naming the
    ``kind``, e.g. "segment") for a bad name, a missing file or text that is not YAML."""
    import yaml

    if not NAME.match(name or ""):
        raise error(f"{kind}: name: lower-case letters, digits and _, got {name!r}")
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in folder.glob("*.yaml"))) or "none"
        raise error(f"{kind} {name!r}: no file {path.name} in {folder} ({kind}s: {known})")
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), path.name
    except yaml.YAMLError as exc:
        raise error(f"{path.name}: not YAML ({exc})") from None
