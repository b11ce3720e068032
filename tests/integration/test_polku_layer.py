"""The PolkuLayer ships product code only (issue #23, 4), and all of it that the functions need.

The layer is built by ``src/Makefile`` (``sam build`` runs its ``build-PolkuLayer`` target) from
one rule, ``src/layer_contents.py`` (``DEV_CODE``: the twin, CLI, demo, test helpers, simulation,
replay). These tests build the package part with that target and check that

* nothing the rule leaves out is in it, and every entry of the rule still names something;
* every ``polku`` import of every shipped module and every handler (also those inside functions)
  resolves to a shipped file, and every third-party import to a dependency the function has on
  Lambda (the layer's requirements, the runtime's boto3, the RecommendLayer's numpy and annoy);
* every handler of template.yaml imports in a fresh interpreter whose path holds only its code
  folder, the built layer, its layers' dependencies and the runtime's boto3 (no src/, no .pth);
* ``sam build PolkuLayer`` builds that same package plus the pinned dependencies.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.integration.lambda_build import python313_env

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
SAM = REPO / ".venv-sam" / "bin" / "sam"
RUNTIME_PROVIDED = ["boto3"]  # the python3.13 Lambda runtime carries boto3 and its dependencies


def _rule():
    spec = importlib.util.spec_from_file_location("layer_contents", SRC / "layer_contents.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RULE = _rule()


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    """The package part of the layer as the Makefile builds it: ARTIFACTS_DIR/python."""
    out = tmp_path_factory.mktemp("polku-layer")
    subprocess.run(["make", "-s", "-C", str(SRC), "polku-package", f"ARTIFACTS_DIR={out}"], check=True,
                   env=python313_env(), capture_output=True, text=True, timeout=120)
    return out / "python"


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# ------------------------------------------------------------------ what is in it


def test_the_layer_is_built_by_its_makefile(template):
    layer = template.resources["PolkuLayer"]
    assert layer["Properties"]["ContentUri"].rstrip("/") == "src"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (SRC / "Makefile").read_text(encoding="utf-8")
    assert "build-PolkuLayer: polku-package" in makefile and "layer_contents.py" in makefile
    assert "-r $(HERE)requirements.txt" in makefile


def test_the_layer_holds_exactly_the_product_files(layer):
    shipped = _files(layer / "polku")
    assert shipped == RULE.product_files()
    assert len(shipped) > 50 and "__init__.py" in shipped
    for needed in ("settings.py", "tracking/schema/events.schema.json", "journeys/stores.yaml", "journeys/registry.yaml"):
        assert needed in shipped, needed
    registry = layer / "polku" / "journeys" / "registry.yaml"
    assert not registry.is_symlink() and registry.read_bytes() == (REPO / "statemachines" / "registry.yaml").read_bytes()
    assert not any(p.endswith((".pyc", ".pyo")) or "__pycache__" in p for p in shipped)


def test_no_dev_code_ships(layer):
    package = SRC / "polku"
    for entry in RULE.DEV_CODE:
        assert (package / entry).exists(), f"DEV_CODE names {entry}, which src/polku does not have: update the rule"
        assert not (layer / "polku" / entry).exists(), f"{entry} is in the layer"
    for folder in ("twin", "cli", "demo", "testing"):
        assert not (layer / "polku" / folder).exists()
    shipped, left_out = set(_files(layer / "polku")), RULE.left_out()
    for rel in _files(package):
        if rel.endswith(".py") and "__pycache__" not in rel:
            assert (rel in shipped) != (rel in left_out), rel


def test_the_rule_tells_dev_paths_apart():
    assert RULE.is_dev("twin/twin.py") and RULE.is_dev("cli/main.py") and RULE.is_dev("journeys/simulate.py")
    assert not RULE.is_dev("journeys/steps.py") and not RULE.is_dev("twinkle.py") and not RULE.is_dev("journeys/simulate.pyx")


# ------------------------------------------------------------------ imports (static, also inside functions)


def _code_files(layer: Path) -> list[tuple[Path, str]]:
    """(file, module name) of every shipped module and every handler module in functions/."""
    shipped = [(p, RULE.module_name(p.relative_to(layer / "polku").as_posix())) for p in sorted((layer / "polku").rglob("*.py"))]
    handlers = [(p, p.stem) for p in sorted((REPO / "functions").rglob("*.py"))]
    return shipped + handlers


def test_every_polku_import_resolves_in_the_layer(layer):
    shipped = set(_files(layer / "polku"))
    missing = []
    for path, module in _code_files(layer):
        for line, name in RULE.imported_names(path, module):
            parts = name.split(".")
            if parts[0] != "polku":
                continue
            for i in range(1, len(parts) + 1):
                target = RULE.module_file(SRC / "polku", ".".join(parts[:i]))
                if target and target not in shipped:
                    where = path.relative_to(layer if layer in path.parents else REPO)
                    why = RULE.left_out().get(target, "?")
                    missing.append(f"{where}:{line} imports polku/{target}, which the layer leaves out ({why})")
    assert missing == [], "\n".join(dict.fromkeys(missing))


def test_a_module_importing_dev_code_is_left_out(tmp_path):
    """The rule follows imports: a module that imports dev code (even inside a function) stays out, and so
    does one that imports it; the modules beside them ship."""
    package = tmp_path / "polku"
    (package / "twin").mkdir(parents=True)
    (package / "journeys").mkdir()
    for rel, text in {"__init__.py": "", "twin/__init__.py": "", "twin/clock.py": "",
                      "journeys/__init__.py": "", "journeys/steps.py": "from polku import settings\n",
                      "journeys/counts.py": "def f():\n    from ..twin.clock import now\n",
                      "journeys/graph.py": "import polku.journeys.counts\n", "settings.py": "", "data.json": "{}"}.items():
        (package / rel).write_text(text)
    assert RULE.left_out(package) == {"twin/__init__.py": "dev code", "twin/clock.py": "dev code",
                                      "journeys/counts.py": "imports twin/__init__.py",
                                      "journeys/graph.py": "imports journeys/counts.py"}
    assert RULE.product_files(package) == ["__init__.py", "data.json", "journeys/__init__.py", "journeys/steps.py", "settings.py"]


def _dist_closure(names: list[str]) -> list[metadata.Distribution]:
    """The installed distributions ``names`` need, with their dependencies (for this interpreter)."""
    seen: dict[str, metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = Requirement(todo.pop()).name.lower().replace("_", "-")
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for req in dist.requires or []:
            r = Requirement(req)
            if r.marker is None or r.marker.evaluate({"extra": ""}):
                todo.append(str(Requirement(req).name))
    return list(seen.values())


def _top_level(dists: list[metadata.Distribution]) -> dict[str, Path]:
    """Import name -> the file or folder in site-packages, for every top-level module of ``dists``."""
    out = {}
    for dist in dists:
        for f in dist.files or []:
            first = f.parts[0]
            if first == ".." or first.endswith((".dist-info", ".egg-info", ".pth", ".data")) or first == "__pycache__":
                continue
            name = first[:-3] if first.endswith(".py") else first.split(".")[0]
            out[name] = Path(dist.locate_file(first))
    return out


def _requirements(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


CORE = _requirements(SRC / "requirements.txt")
NO_DEPS = _requirements(SRC / "requirements-no-deps.txt")  # installed without their dependencies
RECOMMEND = _requirements(REPO / "infra" / "layers" / "recommend" / "requirements.txt")


def _core_dists() -> list[metadata.Distribution]:
    return _dist_closure(CORE) + [metadata.distribution(Requirement(r).name) for r in NO_DEPS]


def test_the_layer_requirements_are_the_package_dependencies():
    """src/requirements*.txt pin what pyproject.toml's dependencies pin, no more and no less."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert sorted(CORE + NO_DEPS) == sorted(project["dependencies"])
    assert all("==" in r for r in CORE + NO_DEPS)


def test_every_third_party_import_is_a_lambda_dependency(layer):
    """plotly, moto, pytest ... are dev dependencies: no shipped module may import them."""
    dists = _core_dists() + _dist_closure(RUNTIME_PROVIDED + RECOMMEND)
    allowed = set(_top_level(dists)) | set(sys.stdlib_module_names)
    assert {"yaml", "pynamodb", "jinja2", "boto3", "numpy", "annoy"} <= allowed
    found = []
    for path, module in _code_files(layer):
        for line, name in RULE.imported_names(path, module):
            top = name.split(".")[0]
            if top not in allowed and top != "polku" and top != "__future__" and not (path.parent / f"{top}.py").exists():
                found.append(f"{path.relative_to(layer if layer in path.parents else REPO)}:{line} imports {name}")
    assert found == [], "\n".join(found)


# ------------------------------------------------------------------ every handler imports from the layer alone


def _deps_folder(root: Path, dists: list[metadata.Distribution]) -> Path:
    """A folder holding links to exactly the top-level modules those distributions install."""
    root.mkdir()
    for name, target in _top_level(dists).items():
        (root / target.name).symlink_to(target)
    return root


_IMPORT_HANDLERS = """
import importlib, json, sys
layer, handlers = sys.argv[1], json.loads(sys.argv[2])
problems = []
for module, attr in handlers:
    try:
        if not callable(getattr(importlib.import_module(module), attr)):
            problems.append(f"{module}.{attr} is not callable")
    except Exception as exc:
        problems.append(f"{module}: {type(exc).__name__}: {exc}")
import polku
outside = sorted(n for n, m in sys.modules.items()
                 if n.split(".")[0] == "polku" and not (getattr(m, "__file__", None) or layer).startswith(layer))
print(json.dumps({"problems": problems, "outside": outside, "polku": polku.__file__,
                  "loaded": sorted(n for n in sys.modules if n.startswith("polku."))}))
"""


def _functions(template) -> dict[tuple[str, tuple[str, ...]], list[tuple[str, str, str]]]:
    """(code folder, layers) -> [(logical id, module, attribute)] for every Lambda function."""
    groups: dict = {}
    for lid in template.of_type("AWS::Serverless::Function"):
        props = template.function_properties(lid)
        layers = tuple(sorted(x["Ref"] for x in props.get("Layers", [])))
        module, attr = props["Handler"].rsplit(".", 1)
        groups.setdefault((props["CodeUri"].rstrip("/"), layers), []).append((lid, module, attr))
    return groups


def test_every_handler_imports_with_only_the_layer(template, layer, tmp_path):
    runtime = _deps_folder(tmp_path / "runtime", _dist_closure(RUNTIME_PROVIDED))
    core = _deps_folder(tmp_path / "core", _core_dists())
    recommend = _deps_folder(tmp_path / "recommend", _dist_closure(RECOMMEND))
    groups = _functions(template)
    assert sum(len(v) for v in groups.values()) >= 10
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_DEFAULT_REGION": "eu-west-1",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "POWERTOOLS_TRACE_DISABLED": "true",
           "POWERTOOLS_SERVICE_NAME": "polku", "POWERTOOLS_METRICS_NAMESPACE": "Polku", "LAMBDA_TASK_ROOT": "/var/task"}
    imported = set()
    for (code, layers), handlers in sorted(groups.items()):
        assert "PolkuLayer" in layers, f"{code}: functions without the PolkuLayer"
        # Lambda's order: the function's code, the layers, then the runtime's own packages.
        path = [str(REPO / code), str(layer), str(core)] + ([str(recommend)] if "RecommendLayer" in layers else [])
        path.append(str(runtime))
        script = f"import sys; sys.path[:0] = {path!r}\n" + _IMPORT_HANDLERS
        proc = subprocess.run([sys.executable, "-I", "-S", "-c", script, str(layer) + os.sep,
                               json.dumps([[m, a] for _, m, a in handlers])],
                              capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-3000:]
        result = json.loads(proc.stdout.splitlines()[-1])
        names = ", ".join(lid for lid, _, _ in handlers)
        assert result["problems"] == [], f"{names} ({code}, layers {layers}): {result['problems']}"
        assert result["outside"] == [] and result["polku"].startswith(str(layer)), result
        imported |= set(result["loaded"])
    assert {"polku.settings", "polku.data.base", "polku.messaging.send_message"} <= imported
    loaded = {RULE.module_file(SRC / "polku", n) for n in imported}
    assert not loaded & set(RULE.left_out())


def test_a_handler_that_needs_dev_code_fails_the_check(layer, tmp_path):
    """The import check can fail: a handler importing the twin does not import with the layer alone."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "bad.py").write_text("from polku.twin import virtual_time\n\ndef lambda_handler(event, context):\n    return 1\n")
    runtime = _deps_folder(tmp_path / "runtime", _dist_closure(RUNTIME_PROVIDED))
    core = _deps_folder(tmp_path / "core", _core_dists())
    script = f"import sys; sys.path[:0] = {[str(code), str(layer), str(core), str(runtime)]!r}\n" + _IMPORT_HANDLERS
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", script, str(layer) + os.sep, json.dumps([["bad", "lambda_handler"]])],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    result = json.loads(proc.stdout.splitlines()[-1])
    assert len(result["problems"]) == 1 and "ModuleNotFoundError" in result["problems"][0] and "polku.twin" in result["problems"][0]


# ------------------------------------------------------------------ sam build


@pytest.mark.slow
def test_sam_builds_the_layer_with_the_same_files(tmp_path):
    """`sam build PolkuLayer` (about 10 s; pip downloads the pinned wheels for python3.13)."""
    if not SAM.exists():
        pytest.fail("SAM CLI missing: `make setup` installs it into .venv-sam")
    env = {**python313_env(), "SAM_CLI_TELEMETRY": "0", "HOME": str(tmp_path)}
    proc = subprocess.run([str(SAM), "build", "PolkuLayer", "--build-dir", str(tmp_path / "build"),
                           "--template-file", str(REPO / "template.yaml")],
                          capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    python = tmp_path / "build" / "PolkuLayer" / "python"
    assert _files(python / "polku") == RULE.product_files()
    registry = python / "polku" / "journeys" / "registry.yaml"
    assert not registry.is_symlink() and registry.read_bytes() == (REPO / "statemachines" / "registry.yaml").read_bytes()
    installed = dict(p.name[: -len(".dist-info")].lower().split("-", 1) for p in python.glob("*.dist-info"))
    for req in CORE + NO_DEPS:
        r = Requirement(req)
        assert installed.get(r.name.lower().replace("-", "_")) == str(r.specifier).lstrip("="), (req, installed)
    assert not {"pip", "setuptools", "wheel", "click", "inquirer"} & set(installed)  # chalice's CLI stays out
    tags = {line.split(": ")[1] for p in python.glob("*.dist-info/WHEEL")
            for line in p.read_text().splitlines() if line.startswith("Tag: ")}
    assert all(t.split("-")[1] in ("none", "abi3", "cp313") for t in tags), tags  # wheels for Lambda's python3.13
