"""The twin's speed patches are fenced: one registry, one switch, and a tripwire on library versions."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

from polku.twin import patches

REPO = Path(__file__).resolve().parents[2]
FOLDER = REPO / "src" / "polku" / "twin" / "patches"


def _pins() -> dict[str, str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    found = {}
    for spec in deps["dependencies"] + [d for group in deps["optional-dependencies"].values() for d in group]:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^;\s]+)", spec.strip())
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


def test_the_installed_libraries_are_the_ones_the_patches_were_written_for():
    """Tripwire: upgrading moto, botocore, PynamoDB or Jinja2 fails here until the patches are ported."""
    assert patches.installed_versions() == patches.PINNED
    pins = _pins()
    assert {lib: pins[lib] for lib in patches.PINNED} == patches.PINNED


def test_another_version_is_refused_with_a_clear_error(monkeypatch):
    monkeypatch.setattr(patches, "installed_versions", lambda: {**patches.PINNED, "moto": "9.9.9"})
    with pytest.raises(patches.PatchVersionError, match=r"moto 9\.9\.9 \(patches written for 5\.2\.5\).*POLKU_TWIN_PATCHES=off"):
        patches.check_versions()
    patches.check_versions(tuple(p for p in patches.SPEED if p.library == "botocore"))  # moto not patched: fine


def test_every_module_in_the_folder_is_registered_and_says_what_it_patches():
    modules = {p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__"}
    assert modules == {p.name for p in patches.SPEED}
    for patch in patches.SPEED:
        module = importlib.import_module(f"polku.twin.patches.{patch.name}")
        doc = module.__doc__ or ""
        assert "Target:" in doc or "moto" in doc or "botocore" in doc, patch.name
        assert callable(module.apply)
        assert patch.library in patches.PINNED
    for patch in patches.EMULATION:
        assert callable(importlib.import_module(f"polku.twin.{patch.name}").apply)


@pytest.mark.parametrize("value, off", [
    ("", set()), ("on", set()), ("off", {p.name for p in patches.SPEED}), ("0", {p.name for p in patches.SPEED}),
    ("-moto_method_names,-botocore_user_agent", {"moto_method_names", "botocore_user_agent"}),
])
def test_the_switch(monkeypatch, value, off):
    monkeypatch.setenv("POLKU_TWIN_PATCHES", value)
    monkeypatch.delenv("POLKU_TWIN_DIRECT", raising=False)
    assert patches.disabled() == off


def test_the_switch_names_an_unknown_patch(monkeypatch):
    monkeypatch.setenv("POLKU_TWIN_PATCHES", "-no_such_patch")
    with pytest.raises(ValueError, match="unknown patch 'no_such_patch'"):
        patches.disabled()


def test_the_direct_lane_keeps_its_own_switch(monkeypatch):
    monkeypatch.delenv("POLKU_TWIN_PATCHES", raising=False)
    monkeypatch.setenv("POLKU_TWIN_DIRECT", "0")
    assert patches.disabled() == {"botocore_direct_lane"}
