"""The RecommendLayer's annoy runs on any Lambda x86_64 host with python3.13 (issue #22).

annoy is compiled from source (no wheel on PyPI); its setup.py adds -march=native, so a layer
built on an AVX-512 machine crashes with "Illegal instruction" on Lambda hosts without it. The
layer's Makefile sets the flags; this test builds annoy exactly as that Makefile does (its
`annoy-wheel` target, about 10 s) and reads the built .so with objdump.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.integration.lambda_build import python313_env

REPO = Path(__file__).resolve().parents[2]
LAYER = REPO / "infra" / "layers" / "recommend"
MAX_GLIBC = (2, 34)  # Lambda python3.13 runs on Amazon Linux 2023


@pytest.fixture(scope="module")
def annoy_so(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("annoy-wheel")
    subprocess.run(["make", "-s", "-C", str(LAYER), "annoy-wheel", f"WHEEL_DIR={out}"], check=True,
                   env=python313_env(), capture_output=True, text=True, timeout=600)
    (wheel,) = out.glob("annoy-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(out / "unpacked")
    (so,) = (out / "unpacked").glob("annoy/annoylib*.so")
    return so


def test_the_layer_is_built_by_its_makefile():
    template = (REPO / "template.yaml").read_text(encoding="utf-8")
    block = template.split("  RecommendLayer:\n", 1)[1].split("\n\n", 1)[0]
    assert "BuildMethod: makefile" in block
    assert "build-RecommendLayer:" in (LAYER / "Makefile").read_text(encoding="utf-8")


def test_annoy_holds_no_avx512_instruction(annoy_so):
    asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(annoy_so)], capture_output=True, text=True,
                         check=True).stdout
    assert len(asm.splitlines()) > 1000  # really disassembled
    zmm = [line for line in asm.splitlines() if "%zmm" in line or re.search(r"\{%k[0-7]\}", line)]
    assert zmm == [], f"{len(zmm)} AVX-512 instructions, e.g. {zmm[:3]}"
    assert "%ymm" in asm  # the chosen level (x86-64-v3) keeps annoy's AVX distance kernels


def test_annoy_needs_at_most_glibc_2_34(annoy_so):
    dynsym = subprocess.run(["objdump", "-T", str(annoy_so)], capture_output=True, text=True, check=True).stdout
    versions = {tuple(int(p) for p in v.split(".")) for v in re.findall(r"GLIBC_(\d+(?:\.\d+)+)", dynsym)}
    assert versions, "no GLIBC symbol versions read"
    assert max(versions) <= MAX_GLIBC, f"needs GLIBC_{'.'.join(map(str, max(versions)))}"


def test_the_build_check_agrees_and_refuses_a_native_build(annoy_so, tmp_path):
    spec = importlib.util.spec_from_file_location("check_native", LAYER / "check_native.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    assert check.problems(annoy_so.parents[1], "x86-64-v3", "2.34") == []
    # An object with an AVX-512 instruction is refused (the check is what fails `sam build`).
    src = tmp_path / "a.s"
    src.write_text(".text\n.globl f\nf:\n vaddps %zmm1, %zmm2, %zmm3\n ret\n")
    lib = tmp_path / "pkg" / "libf.so"
    lib.parent.mkdir()
    subprocess.run(["gcc", "-shared", "-o", str(lib), str(src)], check=True)
    found = check.problems(tmp_path / "pkg", "x86-64-v3", "2.34")
    assert len(found) == 1 and "beyond x86-64-v3" in found[0]
