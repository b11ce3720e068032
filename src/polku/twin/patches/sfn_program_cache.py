"""Parsed ASL programs kept per definition: moto parses the ASL definition with ANTLR for every execution; the parsed program is kept per
definition text (evaluation state lives in each execution's Environment, not in the program).

Target: moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker._get_evaluation_entrypoint (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: +34 % CPU of a 100-customer simulation without it (docs/benchmarks.md, Twin patches); test: tests/statemachines.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()


def apply() -> None:
    from moto.stepfunctions.parser.backend import execution_worker as ew_mod

    programs: dict[str, object] = {}
    original_entrypoint = ew_mod.ExecutionWorker._get_evaluation_entrypoint

    def entrypoint(self):
        definition = self._evaluation_details.state_machine_details.definition
        with _lock:
            program = programs.get(definition)
        if program is None:
            program = original_entrypoint(self)
            with _lock:
                programs[definition] = program
        return program

    ew_mod.ExecutionWorker._get_evaluation_entrypoint = entrypoint
