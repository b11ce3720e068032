"""JSONPaths parsed once: moto's Step Functions parses every JSONPath (Parameters, ResultPath, ...) with a fresh PLY
parser on each evaluation; a parsed path is immutable, so each is parsed once.

Target: moto.stepfunctions.parser.asl.utils.json_path.parse, ...path.result_path.parse (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: +37 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/unit/test_twin_speedups.py::test_jsonpath_parses_are_shared_and_give_the_same_answers.
"""

from __future__ import annotations


def apply() -> None:
    from functools import lru_cache

    from moto.stepfunctions.parser.asl.component.common.path import result_path as rp_mod
    from moto.stepfunctions.parser.asl.utils import json_path as jp_mod

    jp_mod.parse = lru_cache(maxsize=4096)(jp_mod.parse)
    rp_mod.parse = lru_cache(maxsize=4096)(rp_mod.parse)
