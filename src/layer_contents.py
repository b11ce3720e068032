"""What the PolkuLayer ships: the product part of ``src/polku``, never the laptop's code.

    python layer_contents.py DEST      # copy the product files to DEST/polku (src/Makefile does)
    python layer_contents.py --list    # print them, one relative path a line
    python layer_contents.py --left-out  # what stays out, and why

The one list of what stays out (``DEV_CODE``) is read by the build (``src/Makefile``, target
``build-PolkuLayer``, which ``sam build`` runs) and by tests/integration/test_polku_layer.py,
which builds the layer and checks that nothing product code imports is left out.

Left out: the local twin, the CLI, the demo, test helpers, the time-travel simulator and the
Instacart replay, and the tools that need the repository checkout or dev-only dependencies
(``polku journeys lint`` reads template.yaml with the twin's loader and runs npm's
asl-validator; ``polku report`` draws with plotly, which is not a layer dependency). Also left
out: every module that imports one of those, anywhere in its code (``import_closure``), so the
layer never holds a module whose import of dev code would fail on Lambda; the tests fail when a
handler needs a module the rule leaves out. Symlinks are copied as the files they point to
(``journeys/registry.yaml``).
Standard library only: the build runs it with the Lambda runtime's python (python3.13).
"""

from __future__ import annotations

import ast
import shutil
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent / "polku"

# Paths relative to src/polku: a folder (ending in "/") or a file.
DEV_CODE = (
    "twin/",                            # the local twin (moto, virtual clock)
    "cli/",                             # the `polku` command
    "demo/",                            # python -m polku.demo
    "testing/",                         # DynamoDB Local, test doubles
    "journeys/simulate.py",             # time-travel simulation on the twin
    "journeys/demo.py",                 # journeys over replayed Instacart shoppers
    "journeys/lint.py",                 # `polku journeys lint` (twin's template loader, npm asl-validator)
    "tracking/instacart_sessions.py",   # Instacart order histories -> sessions
    "tracking/session_replay.py",       # replays sessions through the tracking API
    "enrollment/twin_access.py",        # enrolment clients as principals of the twin
    "messaging/outbox.py",              # the demo outbox (the twin's SES/SNS as HTML files)
    "reporting/build.py",               # `polku report`: the static HTML page ...
    "reporting/html_page.py",           # ... rendered with plotly (a dev dependency)
    "reporting/charts.py",
    "reporting/report.html.j2",
)
_NEVER = ("__pycache__/",)
_NEVER_SUFFIXES = (".pyc", ".pyo")


def is_dev(rel: str) -> bool:
    """Is ``rel`` (a path relative to src/polku, "/"-separated) left out of the layer?"""
    return any(rel == d or (d.endswith("/") and rel.startswith(d)) for d in DEV_CODE)


def module_file(package: Path, name: str) -> str | None:
    """package-relative file of module ``name`` ("polku.x.y"), None when it is not one of its modules."""
    path = package.joinpath(*name.split(".")[1:])
    if (path / "__init__.py").is_file():
        return (path / "__init__.py").relative_to(package).as_posix()
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py").relative_to(package).as_posix()
    return None


def imported_names(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, dotted name) of everything the file imports, wherever in it the import statement is:
    ``from a.b import c`` gives "a.b" and "a.b.c" (c may be a module); relative imports made absolute."""
    parts = module.split(".")
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (node.module or "").split(".")
            if node.level:
                base = parts[: len(parts) - node.level + (path.name == "__init__.py")] + base
            base = [b for b in base if b]
            names += [(node.lineno, ".".join(base))] + [(node.lineno, ".".join([*base, a.name])) for a in node.names]
    return names


def module_name(rel: str, package: str = "polku") -> str:
    parts = [package, *Path(rel).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def polku_imports(package: Path, rel: str) -> set[str]:
    """The package-relative files module ``rel`` imports (the modules named and their parents)."""
    found = set()
    for _, name in imported_names(package / rel, module_name(rel, package.name)):
        parts = name.split(".")
        if parts[0] == package.name:
            found |= {f for i in range(1, len(parts) + 1) if (f := module_file(package, ".".join(parts[:i])))}
    return found


def import_closure(package: Path, candidates: list[str], left_out: set[str]) -> dict[str, str]:
    """Modules of ``candidates`` that import a left-out module, directly or through another: {file: what it imports}."""
    out: dict[str, str] = {}
    imports = {rel: polku_imports(package, rel) for rel in candidates if rel.endswith(".py")}
    changed = True
    while changed:
        changed = False
        for rel, targets in imports.items():
            hit = sorted(t for t in targets if t in left_out or t in out)
            if rel not in out and hit:
                out[rel] = hit[0]
                changed = True
    return out


def _walk(package: Path) -> list[str]:
    out = []
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package).as_posix()
        if not path.is_dir() and not rel.endswith(_NEVER_SUFFIXES) and not any(n in rel + "/" for n in _NEVER):
            out.append(rel)
    return out


def left_out(package: Path = PACKAGE) -> dict[str, str]:
    """Every file the layer does not ship (beyond caches), with why: "dev code" or "imports <file>"."""
    files = _walk(package)
    dev = {rel for rel in files if is_dev(rel)}
    rest = [rel for rel in files if rel not in dev]
    return {**{rel: "dev code" for rel in dev},
            **{rel: f"imports {why}" for rel, why in import_closure(package, rest, dev).items()}}


def product_files(package: Path = PACKAGE) -> list[str]:
    """The files of ``package`` the layer ships, relative to it, sorted."""
    out = left_out(package)
    return [rel for rel in _walk(package) if rel not in out]


def copy(dest: Path, package: Path = PACKAGE) -> list[str]:
    """Copy the product files to ``dest/polku`` (symlinks as their targets); returns them."""
    files = product_files(package)
    if not files:
        raise SystemExit(f"layer_contents: no product files under {package}")
    target = Path(dest) / "polku"
    for rel in files:
        src = package / rel
        if not src.exists():
            raise SystemExit(f"layer_contents: {src} is a broken link (its target is outside the build's source?)")
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out)
    return files


def main(argv: list[str]) -> int:
    if argv == ["--list"]:
        print("\n".join(product_files()))
        return 0
    if argv == ["--left-out"]:
        print("\n".join(f"{rel}: {why}" for rel, why in sorted(left_out().items())))
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    files = copy(Path(argv[0]))
    imports_dev = sorted(rel for rel, why in left_out().items() if why != "dev code")
    print(f"layer_contents: {len(files)} files of polku in {Path(argv[0]) / 'polku'}; left out: DEV_CODE"
          + (f" and, as they import it, {', '.join(imports_dev)}" if imports_dev else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
