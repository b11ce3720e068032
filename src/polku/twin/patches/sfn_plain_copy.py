"""Plain deep copies of JSON values in the ASL interpreter: generic deepcopy of an execution's history and of the JSON values passed between states costs
about as much as a journey's Lambda tasks; dicts, lists and scalars are copied the way deepcopy
copies them (a datetime, immutable, is kept).

Target: moto.stepfunctions.parser.asl.eval.event.event_manager.EventManager.get_event_history and the
interpreter modules' copy.deepcopy (moto, the version pinned in polku.twin.patches.PINNED).
Measured gain: see the table in docs/benchmarks.md (twin patches); test: tests/unit/test_twin_speedups.py::test_plain_deepcopy_gives_deepcopys_result.
"""

from __future__ import annotations

import copy as _copy
import datetime as _dt

# ------------------------------------------------------------ Step Functions history
# moto hands out an execution's history (GetExecutionHistory, the simulation's read-back) as a
# copy.deepcopy of its event list: generic deepcopy costs about as much as a journey's Lambda
# tasks. The events are plain dicts and lists of strings, numbers, booleans and datetimes; they
# are copied here the way deepcopy copies them (dicts and lists rebuilt, keys and values copied
# recursively, shared parts copied once, same memo), except that a datetime, which is immutable,
# is kept rather than rebuilt as an equal one. Anything else still goes through copy.deepcopy.
# tests/unit/test_twin_speedups.py compares the two on a real history.
_ATOMIC = frozenset({str, int, float, bool, type(None), bytes, _dt.datetime})


def plain_deepcopy(value, memo=None):
    if memo is None:
        memo = {}
    return _plain_copy(value, memo)


def _plain_copy(value, memo):
    t = type(value)
    if t in _ATOMIC:
        return value
    found = memo.get(id(value))
    if found is not None:
        return found
    if t is dict:
        out = {}
        memo[id(value)] = out
        for k, v in value.items():
            out[k if type(k) in _ATOMIC else _plain_copy(k, memo)] = v if type(v) in _ATOMIC else _plain_copy(v, memo)
        return out
    if t is list:
        out = []
        memo[id(value)] = out
        append = out.append
        for v in value:
            append(v if type(v) in _ATOMIC else _plain_copy(v, memo))
        return out
    return _copy.deepcopy(value, memo)


# The ASL interpreter also deep-copies the JSON values it passes between states (a state's
# input, each JSONPath result, a task frame's stack); its modules get a ``copy`` module whose
# deepcopy is plain_deepcopy (same results; anything but dicts, lists and scalars still goes
# through copy.deepcopy).
_ASL_MODULES = (
    "moto.stepfunctions.parser.asl.eval.states",
    "moto.stepfunctions.parser.asl.eval.environment",
    "moto.stepfunctions.parser.asl.component.common.string.string_expression",
    "moto.stepfunctions.parser.asl.component.common.path.result_path",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service",
    "moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.json_manipulation.json_merge",
)


def _copy_module():
    import copy
    import types

    shim = types.ModuleType("copy")
    shim.__dict__.update(copy.__dict__)
    shim.deepcopy = plain_deepcopy
    return shim


def apply() -> None:
    import copy
    import importlib

    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

    def get_event_history(self):
        with self._mutex:
            return plain_deepcopy(self._history_event_list)

    EventManager.get_event_history = get_event_history

    shim = _copy_module()
    for name in _ASL_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "copy", None) is copy:
            module.copy = shim
