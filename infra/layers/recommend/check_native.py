"""Refuse native code that would not run on AWS Lambda (x86_64, python3.13 on Amazon Linux 2023).

    python check_native.py --level x86-64-v3 --max-glibc 2.34 [--only-level PKG] DIR

Every shared object under DIR must need at most glibc MAX (its GLIBC_x.y symbol versions,
``objdump -T``). Shared objects of PKG (``--only-level``; default: all) must hold no
instruction beyond the x86-64 LEVEL: for v3 that is AVX-512 (zmm or opmask registers, or an
EVEX-only mnemonic in ``objdump -d``). numpy is left out of the level check on purpose: its
wheels carry AVX-512 kernels that it picks at run time after asking the CPU.
Exit status 1 and one line per problem when anything is refused. Used by the layer's Makefile
and by tests/integration/test_recommend_layer_build.py.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

_GLIBC = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")
_ZMM_OR_MASK = re.compile(r"%zmm\d+|%k[0-7]\b|\{%k[0-7]\}")
# AVX-512 instructions that can also run on xmm/ymm (AVX512VL) and so carry no zmm register.
_EVEX_ONLY = re.compile(
    r"\s(vpternlog[dq]|vperm[it]2\w+|vpcompress\w|vpexpand\w|vcompressp\w|vexpandp\w|vrndscale\w+|vrange\w+|"
    r"vgetexp\w+|vgetmant\w+|vscalef\w+|vfixupimm\w+|vpconflict\w|vplzcnt\w|vpro[lr]v?[dq]|vpsraq|"
    r"valign[dq]|vpabsq|vp(max|min)[su]q|vrcp14\w+|vrsqrt14\w+|vpopcnt\w|vpshl?d\w*|vpshrd\w*|"
    r"v(broadcast|extract|insert)[fi](32x4|32x8|64x2|64x4)|vpmov\w*2m|vpmovm2\w|kmov\w|kor\w|kand\w|"
    r"vcvt\w*2u\w+|vcvtu\w+2\w+|vdbpsadbw|vpmultishiftqb|vpermb|vpermw|vdpbf16ps|vcvtne2ps2bf16)\s"
)
LEVEL_RULES = {"x86-64-v3": [_ZMM_OR_MASK, _EVEX_ONLY]}


def glibc_needed(so: Path) -> tuple[int, ...] | None:
    """The newest GLIBC_x.y version the object's dynamic symbols require (None: none)."""
    out = subprocess.run(["objdump", "-T", str(so)], capture_output=True, text=True, check=True).stdout
    versions = [tuple(int(p) for p in v.split(".")) for v in _GLIBC.findall(out)]
    return max(versions) if versions else None


def beyond_level(so: Path, level: str) -> list[str]:
    """Disassembled instructions of ``so`` that need more than ``level`` (empty: none)."""
    rules = LEVEL_RULES[level]
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(so)], capture_output=True, text=True,
                         check=True).stdout
    return [line.strip() for line in out.splitlines() if any(r.search(line) for r in rules)]


def problems(root: Path, level: str, max_glibc: str, only_level: str | None = None) -> list[str]:
    limit = tuple(int(p) for p in max_glibc.split("."))
    found = []
    objects = sorted(root.rglob("*.so")) + sorted(root.rglob("*.so.*"))
    if not objects:
        return [f"{root}: no shared objects found"]
    for so in objects:
        rel = so.relative_to(root)
        needed = glibc_needed(so)
        if needed and needed > limit:
            found.append(f"{rel}: needs GLIBC_{'.'.join(map(str, needed))} (Lambda python3.13 has {max_glibc})")
        if only_level is None or rel.parts[0] == only_level:
            bad = beyond_level(so, level)
            if bad:
                found.append(f"{rel}: {len(bad)} instructions beyond {level}, e.g. {bad[0]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--level", default="x86-64-v3", choices=sorted(LEVEL_RULES))
    parser.add_argument("--max-glibc", default="2.34")
    parser.add_argument("--only-level", metavar="PKG", help="check the instruction level only under PKG/")
    args = parser.parse_args(argv)
    found = problems(args.root, args.level, args.max_glibc, args.only_level)
    for line in found:
        print(f"check_native: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
