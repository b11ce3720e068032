"""The data layer is the only door to the tables: one module per table in ``polku.data`` holds its
model, its reads and its writes (conditional ones through ``put_once``/``update_if``). Everything
else, product code and the laptop's tools alike, calls those functions and never a model's query,
scan, get, save, update or delete, nor builds a condition, nor catches a failed condition by hand."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = "src/polku/data/"
# Binding the models to a set of tables (and an endpoint) is the twin's and the CLI's job.
ALLOWED_NAMES = {"bind_models", "MODELS"}


def _code_files() -> list[Path]:
    return sorted([*(REPO / "src" / "polku").rglob("*.py"), *(REPO / "functions").rglob("*.py")])


def _crossings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("polku.data"):
            for alias in node.names:
                name = alias.name
                if name in ALLOWED_NAMES:
                    continue
                if name.endswith("Model") or name in ("put_once", "update_if", "base", "PolkuModel",
                                                      "CONDITION_FAILED"):
                    found.append(f"{node.lineno}: imports {name} from {node.module}")
        elif isinstance(node, ast.Attribute) and node.attr == "cause_response_code":
            found.append(f"{node.lineno}: reads cause_response_code (a failed condition caught by hand)")
        elif isinstance(node, ast.Constant) and node.value == "ConditionalCheckFailedException":
            found.append(f"{node.lineno}: names ConditionalCheckFailedException")
    return found


def test_only_the_data_layer_touches_models():
    found = []
    for path in _code_files():
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith(DATA):
            continue
        found += [f"{rel}:{c}" for c in _crossings(path)]
    assert not found, "table access outside polku.data (add a function to the table's module):\n" + "\n".join(found)


def test_the_check_sees_a_crossing(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from polku.data.messages import MessageModel\n"
                      "from polku.data.base import bind_models\n"
                      "def f(exc):\n    return exc.cause_response_code\n")
    assert [c.split(":")[0] for c in _crossings(sample)] == ["1", "4"]


def test_every_table_has_its_module():
    from polku.data.base import MODELS
    import polku.data.catalog, polku.data.enrollments, polku.data.events, polku.data.identities  # noqa: F401,E401
    import polku.data.journey_state, polku.data.messages, polku.data.profiles  # noqa: F401,E401
    import polku.data.rate_limits, polku.data.suppressions  # noqa: F401,E401

    modules = {m.__module__ for m in MODELS}
    assert len(modules) == len({m.settings_field for m in MODELS}), "one module per table"
