"""Step Functions Distributed Map on the twin: ItemReader, ItemBatcher, ResultWriter, child executions, redrive.

Target: moto 5.2.5's Step Functions interpreter (moto.stepfunctions.parser): ``AmazonStateLanguageParser.parse``,
``StateMap._eval_execution``, ``ExecutionWorker._get_evaluation_entrypoint``,
``BaseExecutionWorkerCommunication.terminated`` and ``StepFunctionResponse`` (RedriveExecution).
Reason: moto's ASL grammar has no ``ItemBatcher`` (a definition with one does not parse), its
distributed map runs items in threads rather than child executions, and it has no
RedriveExecution. Polku's campaigns fan out through a Distributed Map (statemachines/campaign.asl.json).
Test: tests/integration/test_campaign_distributed_map.py (and the campaign send tests).

What is emulated, as AWS documents it:

* a ``Map`` state whose ``ItemProcessor.ProcessorConfig.Mode`` is ``DISTRIBUTED``, at the top level
  of a state machine (a nested one is refused when the state machine is created);
* ``ItemReader`` with ``arn:aws:states:::s3:getObject`` and ``ReaderConfig.InputType`` ``JSON``
  (an array) or ``JSONL``, ``MaxItems``; without a reader, ``ItemsPath`` (default ``$``);
* ``ItemSelector`` (``$$.Map.Item.Index`` / ``Value``), ``ItemBatcher`` (``MaxItemsPerBatch``,
  ``MaxInputBytesPerBatch``, ``BatchInput``): each child's input is ``{"Items": [...], "BatchInput": ...}``;
* every item or batch runs as a **child execution** of a state machine made from the ItemProcessor
  (``<parent>-<state>``, shown by ListExecutions), at most ``MaxConcurrency`` at once (0: all);
* ``ToleratedFailurePercentage`` / ``ToleratedFailureCount`` over items: beyond them no further
  child is started and the state fails with ``States.ExceedToleratedFailureThreshold``
  (Retry and Catch see that name);
* ``ResultWriter`` with ``arn:aws:states:::s3:putObject`` (``Bucket``, ``Prefix``): ``manifest.json``,
  ``SUCCEEDED_0.json``, ``FAILED_0.json``, ``PENDING_0.json`` under ``<Prefix>/<map run id>/``, and the
  state's result ``{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}``; without a writer the
  result is the children's outputs in item order;
* **RedriveExecution** of an execution that failed in such a state: the execution (same ARN,
  ``redriveCount`` + 1) starts again at that state with that state's input, and the map run starts
  only the children that did not succeed (failed, aborted or never started).

Parameters take JSONPath (``"Key.$": "$.path"``, ``$$.`` for the context object) but not intrinsic
functions. Not emulated: CSV and manifest readers, EXPRESS children, ``Label`` in the ARN's
uniqueness rules, a redrive of an execution that failed anywhere else (refused by name).
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from polku import clock as polku_clock

_applied = False
_lock = threading.Lock()
_watch: dict[str, Any] = {}  # child execution ARN -> ClockEvent of the waiting map run
_runs: dict[tuple[str, str], "MapRun"] = {}  # (parent execution ARN, state) -> the latest map run
_failures: dict[str, dict] = {}  # parent execution ARN -> {"state", "input"} of its failed distributed map
_redriving: set[str] = set()
NotRedrivableError: Any = None  # moto's AWS error class for ExecutionNotRedrivable (made in apply)  # parent executions now being redriven (the map run reuses its children)

READERS = {"arn:aws:states:::s3:getObject"}
WRITERS = {"arn:aws:states:::s3:putObject"}
THRESHOLD_ERROR = "States.ExceedToleratedFailureThreshold"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")
# The keys of a Map state moto's grammar keeps on the stand-in state (the rest is emulated here).
KEPT = ("Comment", "Next", "End", "InputPath", "OutputPath", "ResultPath", "ResultSelector", "Retry", "Catch")
HANDLED = ("Type", "ItemProcessor", "ItemReader", "ItemBatcher", "ItemSelector", "ItemsPath", "ResultWriter",
           "MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount", "Label", *KEPT)


class DistributedMapError(ValueError):
    """A Distributed Map the twin cannot run as written (the message names the field)."""


@dataclass
class Child:
    index: int
    input: Any
    items: int  # how many items it carries
    status: str = "PENDING"  # PENDING | RUNNING | SUCCEEDED | FAILED | ABORTED | TIMED_OUT
    arn: str | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    attempts: int = 0


@dataclass
class MapRun:
    arn: str
    state: str
    children: list[Child] = field(default_factory=list)
    redrive_count: int = 0

    @property
    def run_id(self) -> str:
        return self.arn.rsplit(":", 1)[-1]


# ---------------------------------------------------------------- definitions
def extract(definition: str) -> tuple[str, dict[str, dict]]:
    """(definition moto can parse, {state name: the Distributed Map state as written})."""
    try:
        doc = json.loads(definition)
    except (TypeError, ValueError):
        return definition, {}
    if not isinstance(doc, dict) or not isinstance(doc.get("States"), dict):
        return definition, {}
    specs: dict[str, dict] = {}
    for name, state in doc["States"].items():
        if _is_distributed(state):
            specs[name] = state
            _check_spec(name, state)
            stand_in = {k: state[k] for k in KEPT if k in state}
            stand_in.update({"Type": "Map", "ItemsPath": "$.__polku_distributed_map__", "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": f"{name} (emulated)",
                "States": {f"{name} (emulated)": {"Type": "Pass", "End": True}}}})
            doc["States"][name] = stand_in
        else:
            _refuse_nested(name, state)
    if not specs:
        return definition, {}
    return json.dumps(doc), specs


def _is_distributed(state: Any) -> bool:
    if not isinstance(state, dict) or state.get("Type") != "Map":
        return False
    proc = state.get("ItemProcessor") if isinstance(state.get("ItemProcessor"), dict) else {}
    return (proc.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED"


def _refuse_nested(name: str, state: Any) -> None:
    def walk(obj):
        if isinstance(obj, dict):
            for key, value in obj.items():
                if key == "States" and isinstance(value, dict):
                    for inner, st in value.items():
                        if _is_distributed(st):
                            raise DistributedMapError(
                                f"{inner}: the twin runs a Distributed Map only at the top level of a state machine "
                                f"(this one is inside {name})")
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(state)


def _check_spec(name: str, state: dict) -> None:
    unknown = sorted(set(state) - set(HANDLED))
    if unknown:
        raise DistributedMapError(f"{name}.{unknown[0]}: not emulated by the twin's Distributed Map")
    reader = state.get("ItemReader")
    if reader is not None:
        if reader.get("Resource") not in READERS:
            raise DistributedMapError(f"{name}.ItemReader.Resource: the twin reads {sorted(READERS)}, "
                                      f"got {reader.get('Resource')!r}")
        kind = ((reader.get("ReaderConfig") or {}).get("InputType") or "JSON")
        if kind not in ("JSON", "JSONL"):
            raise DistributedMapError(f"{name}.ItemReader.ReaderConfig.InputType: JSON or JSONL on the twin, got {kind!r}")
    writer = state.get("ResultWriter")
    if writer is not None and writer.get("Resource") not in WRITERS:
        raise DistributedMapError(f"{name}.ResultWriter.Resource: the twin writes {sorted(WRITERS)}")
    batcher = state.get("ItemBatcher")
    if batcher is not None:
        extra = set(batcher) - {"MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"}
        if extra:
            raise DistributedMapError(f"{name}.ItemBatcher.{sorted(extra)[0]}: not emulated by the twin")


def _attach(program, specs: dict[str, dict]) -> None:
    for name, spec in specs.items():
        state = program.states.states.get(name)
        if state is not None:
            state._polku_distributed = spec


# ---------------------------------------------------------------- JSONPath
def resolve(template: Any, data: Any, context: dict) -> Any:
    """Parameters with ``"key.$": "$.path"`` / ``"$$.path"`` resolved (no intrinsic functions)."""
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or not value.startswith("$"):
                    raise DistributedMapError(f"{key}: the twin's Distributed Map takes JSONPath here, not {value!r}")
                source, path = (context, "$" + value[2:]) if value.startswith("$$") else (data, value)
                out[key[:-2]] = copy.deepcopy(extract_json(path, source))
            else:
                out[key] = resolve(value, data, context)
        return out
    if isinstance(template, list):
        return [resolve(v, data, context) for v in template]
    return template


def _number(spec: dict, key: str, default, state_input, context, name: str):
    if key in spec and f"{key}Path" in spec:
        raise DistributedMapError(f"{name}: give {key} or {key}Path, not both")
    if f"{key}Path" in spec:
        value = resolve({"v.$": spec[f"{key}Path"]}, state_input, context)["v"]
    else:
        value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise DistributedMapError(f"{name}.{key}: a number of 0 or more, got {value!r}")
    return value


# ---------------------------------------------------------------- the map run
def _backend(state_machine_arn: str):
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    _, _, _, region, account, _ = state_machine_arn.split(":", 5)
    return stepfunctions_parser_backends[account][region]


def _s3(region: str):
    import boto3

    return boto3.client("s3", region_name=region, aws_access_key_id="twin", aws_secret_access_key="twin")


def _items(spec: dict, name: str, state_input, context, region: str) -> list:
    reader = spec.get("ItemReader")
    if reader is None:
        path = spec.get("ItemsPath", "$")
        items = resolve({"v.$": path}, state_input, context)["v"]
    else:
        params = resolve(reader.get("Parameters") or {}, state_input, context)
        if not params.get("Bucket") or not params.get("Key"):
            raise DistributedMapError(f"{name}.ItemReader.Parameters: Bucket and Key are required")
        body = _s3(region).get_object(Bucket=params["Bucket"], Key=params["Key"])["Body"].read().decode("utf-8")
        config = reader.get("ReaderConfig") or {}
        if (config.get("InputType") or "JSON") == "JSONL":
            items = [json.loads(line) for line in body.splitlines() if line.strip()]
        else:
            items = json.loads(body)
        if config.get("MaxItems"):
            items = items[: int(config["MaxItems"])]
    if not isinstance(items, list):
        raise DistributedMapError(f"{name}: the items must be a JSON array, got {type(items).__name__}")
    selector = spec.get("ItemSelector")
    if selector is not None:
        items = [resolve(selector, state_input, {**context, "Map": {"Item": {"Index": i, "Value": v}}})
                 for i, v in enumerate(items)]
    return items


def _batches(spec: dict, name: str, items: list, state_input, context) -> list[tuple[Any, int]]:
    batcher = spec.get("ItemBatcher")
    if batcher is None:
        return [(item, 1) for item in items]
    per_batch = int(_number(batcher, "MaxItemsPerBatch", 0, state_input, context, f"{name}.ItemBatcher"))
    max_bytes = int(_number(batcher, "MaxInputBytesPerBatch", 256 * 1024, state_input, context, f"{name}.ItemBatcher"))
    batch_input = resolve(batcher["BatchInput"], state_input, context) if "BatchInput" in batcher else None
    out, current = [], []

    def flush():
        if current:
            body = {"Items": list(current)}
            if batch_input is not None:
                body["BatchInput"] = batch_input
            out.append((body, len(current)))
            current.clear()

    for item in items:
        if current and ((per_batch and len(current) >= per_batch)
                        or len(json.dumps({"Items": current + [item], "BatchInput": batch_input})) > max_bytes):
            flush()
        current.append(item)
    flush()
    return out


def _child_machine(backend, parent_arn: str, name: str, spec: dict) -> str:
    """The state machine of the ItemProcessor (created once per parent machine, state and definition)."""
    proc = spec["ItemProcessor"]
    definition = json.dumps({k: v for k, v in proc.items() if k != "ProcessorConfig"}, sort_keys=True)
    parent = backend.describe_state_machine(parent_arn)
    digest = hashlib.sha256(definition.encode()).hexdigest()[:8]
    child_name = f"{parent.name}-{_SAFE.sub('_', name)}"[:71] + f"-{digest}"
    arn = parent_arn.rsplit(":", 1)[0] + ":" + child_name
    with _lock:
        try:
            backend.describe_state_machine(arn)
        except Exception:  # noqa: BLE001 - not created yet
            backend.create_state_machine(name=child_name, definition=definition, roleArn=parent.roleArn)
    return arn


def _tolerance(spec: dict, name: str, state_input, context) -> tuple[float | None, float | None]:
    """(percentage, count) of failed items tolerated; None where the state gives none."""
    given = lambda key: key in spec or f"{key}Path" in spec  # noqa: E731
    pct = _number(spec, "ToleratedFailurePercentage", 0, state_input, context, name) \
        if given("ToleratedFailurePercentage") else None
    count = _number(spec, "ToleratedFailureCount", 0, state_input, context, name) \
        if given("ToleratedFailureCount") else None
    if pct is not None and pct > 100:
        raise DistributedMapError(f"{name}.ToleratedFailurePercentage: 0 to 100, got {pct!r}")
    return pct, count


def _exceeded(run: MapRun, pct: float | None, count: float | None) -> bool:
    """Failed items beyond the tolerance (none given: any failure; both: either one)."""
    total = sum(c.items for c in run.children)
    failed = sum(c.items for c in run.children if c.status in ("FAILED", "ABORTED", "TIMED_OUT"))
    if not failed:
        return False
    if pct is None and count is None:
        return True
    return (count is not None and failed > count) or (pct is not None and 100.0 * failed / max(1, total) > pct)


def _run_children(backend, run: MapRun, child_arn: str, concurrency: int, pct: float, count: float) -> bool:
    """Start the map run's unfinished children, at most ``concurrency`` at once; False when the failures
    went beyond the tolerance (no further child was started then)."""
    from polku.clock import ClockEvent

    todo = [c for c in run.children if c.status != "SUCCEEDED"]
    for c in todo:
        c.status = "PENDING"
    wake = ClockEvent()
    running: dict[str, Child] = {}
    prefix = hashlib.sha256(run.arn.encode()).hexdigest()[:16]
    stop = False
    while todo or running:
        wake.clear()
        for arn, c in list(running.items()):
            ex = backend.describe_execution(arn)
            status = getattr(ex.exec_status, "value", ex.exec_status)
            if status == "RUNNING":
                continue
            del running[arn]
            with _lock:
                _watch.pop(arn, None)
            c.status = str(status)
            c.error, c.cause = ex.error, ex.cause
            out = ex.output
            try:
                c.output = json.loads(out) if isinstance(out, str) else out
            except ValueError:
                c.output = out
        if not stop and _exceeded(run, pct, count):
            stop = True
        while todo and not stop and (concurrency == 0 or len(running) < concurrency):
            c = todo.pop(0)
            c.attempts += 1
            name = f"{prefix}-{c.index:06d}-{run.redrive_count}"
            arn = child_arn.replace(":stateMachine:", ":execution:") + ":" + name
            with _lock:
                _watch[arn] = wake
            c.arn, c.status = arn, "RUNNING"
            backend.start_execution(child_arn, name, json.dumps(c.input))
            running[arn] = c
        if stop:
            todo.clear()
        if running and not any(_done(backend, a) for a in running):
            polku_clock.get_clock().wait(wake, None)
    return not _exceeded(run, pct, count)


def _done(backend, arn: str) -> bool:
    status = backend.describe_execution(arn).exec_status
    return getattr(status, "value", status) != "RUNNING"


def _write_results(run: MapRun, spec: dict, state_input, context, region: str, name: str) -> dict | None:
    writer = spec.get("ResultWriter")
    if writer is None:
        return None
    params = resolve(writer.get("Parameters") or {}, state_input, context)
    bucket, prefix = params.get("Bucket"), str(params.get("Prefix") or "").rstrip("/")
    if not bucket:
        raise DistributedMapError(f"{name}.ResultWriter.Parameters.Bucket: required")
    base = f"{prefix}/{run.run_id}" if prefix else run.run_id
    s3 = _s3(region)
    groups = {"SUCCEEDED": [], "FAILED": [], "PENDING": []}
    for c in run.children:
        group = "SUCCEEDED" if c.status == "SUCCEEDED" else "PENDING" if c.status == "PENDING" else "FAILED"
        record = {"ExecutionArn": c.arn, "Input": json.dumps(c.input), "InputDetails": {"Included": True},
                  "Name": c.arn.rsplit(":", 1)[-1] if c.arn else None, "Status": c.status,
                  "RedriveCount": run.redrive_count}
        if c.status == "SUCCEEDED":
            record.update(Output=json.dumps(c.output), OutputDetails={"Included": True})
        elif c.status != "PENDING":
            record.update(Error=c.error, Cause=c.cause)
        groups[group].append(record)
    files = {}
    for group, records in groups.items():
        key = f"{base}/{group}_0.json"
        body = json.dumps(records).encode()
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
        files[group] = [{"Key": key, "Size": len(body)}]
    manifest_key = f"{base}/manifest.json"
    s3.put_object(Bucket=bucket, Key=manifest_key, ContentType="application/json", Body=json.dumps(
        {"DestinationBucket": bucket, "MapRunArn": run.arn, "ResultFiles": files}).encode())
    return {"MapRunArn": run.arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def run_map(spec: dict, name: str, env) -> Any:
    """Evaluate one Distributed Map state (the stand-in's ``_eval_execution``); its raw result."""
    context = env.states.context_object.context_object_data
    state_input = env.states.get_input()
    parent_exec, parent_sm = context["Execution"]["Id"], context["StateMachine"]["Id"]
    region = parent_sm.split(":")[3]
    backend = _backend(parent_sm)
    key = (parent_exec, name)
    with _lock:
        redrive = parent_exec in _redriving and key in _runs
        _redriving.discard(parent_exec)
        previous = _runs.get(key)
    if redrive:
        run = previous
        run.redrive_count += 1
    else:
        sm_name = parent_sm.rsplit(":", 1)[-1]
        label = _SAFE.sub("_", spec.get("Label") or name)[:40]
        run = MapRun(f"arn:aws:states:{region}:{parent_sm.split(':')[4]}:mapRun:{sm_name}/{label}:{uuid.uuid4()}", name)
        items = _items(spec, name, state_input, context, region)
        run.children = [Child(i, body, n) for i, (body, n) in enumerate(_batches(spec, name, items, state_input, context))]
        with _lock:
            _runs[key] = run
    concurrency = int(_number(spec, "MaxConcurrency", 0, state_input, context, name))
    pct, count = _tolerance(spec, name, state_input, context)
    child_arn = _child_machine(backend, parent_sm, name, spec)
    ok = _run_children(backend, run, child_arn, concurrency, pct, count)
    written = _write_results(run, spec, state_input, context, region, name)
    if not ok:
        failed = sum(c.items for c in run.children if c.status in ("FAILED", "ABORTED", "TIMED_OUT"))
        with _lock:
            _failures[parent_exec] = {"state": name, "input": copy.deepcopy(state_input), "inputpath": "InputPath" in spec}
        _fail(env, f"The specified tolerated failure threshold was exceeded: {failed} of "
                   f"{sum(c.items for c in run.children)} items failed (map run {run.arn})")
    with _lock:
        _failures.pop(parent_exec, None)
    if written is not None:
        return written
    return [c.output for c in run.children]


def _fail(env, cause: str):
    from moto.stepfunctions.parser.api import HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    event = FailureEvent(env=env, error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                         event_type=HistoryEventType.MapRunFailed,
                         event_details=EventDetails(mapRunFailedEventDetails={"error": THRESHOLD_ERROR, "cause": cause}))
    raise FailureEventException(failure_event=event)


def map_run(execution_arn: str, state: str) -> MapRun | None:
    """The latest map run of ``state`` in the execution (tests, the CLI)."""
    with _lock:
        return _runs.get((execution_arn, state))


# ---------------------------------------------------------------- redrive
class ExecutionNotRedrivable(Exception):
    pass


def _not_redrivable_error():
    from moto.core.exceptions import AWSError

    class ExecutionNotRedrivableError(AWSError):
        TYPE = "ExecutionNotRedrivable"
        STATUS = 400

    return ExecutionNotRedrivableError


def redrive(execution_arn: str) -> _dt.datetime:
    """RedriveExecution: restart a failed execution at its failed Distributed Map state."""
    from moto.stepfunctions.parser.api import ExecutionStatus

    sm_arn = execution_arn.replace(":execution:", ":stateMachine:").rsplit(":", 1)[0]
    backend = _backend(sm_arn)
    execution = backend.describe_execution(execution_arn)
    status = getattr(execution.exec_status, "value", execution.exec_status)
    if status not in ("FAILED", "ABORTED", "TIMED_OUT"):
        raise ExecutionNotRedrivable(f"Execution {execution_arn} is {status}: only a failed, aborted or timed-out "
                                     "execution can be redriven")
    with _lock:
        failure = _failures.get(execution_arn)
    if failure is None or execution.error != THRESHOLD_ERROR:
        raise ExecutionNotRedrivable("the twin redrives only executions that failed in a Distributed Map state "
                                     f"({THRESHOLD_ERROR}); {execution_arn} failed with {execution.error!r}")
    if failure["inputpath"]:
        raise ExecutionNotRedrivable(f"{failure['state']}: redriving a Distributed Map state with InputPath is not "
                                     "emulated by the twin")
    with _lock:
        _redriving.add(execution_arn)
    execution.redrive_count = int(getattr(execution, "redrive_count", 0) or 0) + 1
    execution.redrive_date = polku_clock.now()
    execution.error = execution.cause = execution.output = execution.stop_date = None
    worker = execution._get_start_execution_worker()
    worker._evaluation_details.execution_details.inpt = copy.deepcopy(failure["input"])
    worker._polku_start_at = failure["state"]
    execution.exec_worker = worker
    execution.exec_status = ExecutionStatus.RUNNING
    worker.start()
    return execution.redrive_date


# ---------------------------------------------------------------- patches
def apply() -> None:
    """Install the emulation (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
    from moto.stepfunctions.parser.backend import execution as execution_mod
    from moto.stepfunctions.parser.backend import execution_worker as ew_mod
    from moto.stepfunctions.responses import StepFunctionResponse

    original_parse = AmazonStateLanguageParser.parse

    def parse(definition: str):
        text, specs = extract(definition)
        program, tree = original_parse(text)
        _attach(program, specs)
        return program, tree

    AmazonStateLanguageParser.parse = staticmethod(parse)

    original_eval = StateMap._eval_execution

    def eval_execution(self, env) -> None:
        spec = getattr(self, "_polku_distributed", None)
        if spec is None:
            return original_eval(self, env)
        env.stack.append(run_map(spec, self.name, env))

    StateMap._eval_execution = eval_execution

    original_entrypoint = ew_mod.ExecutionWorker._get_evaluation_entrypoint

    def entrypoint(self):
        program = original_entrypoint(self)
        start_at = getattr(self, "_polku_start_at", None)
        if start_at is None:
            return program
        restarted = copy.copy(program)  # the cached program is shared: change only this copy
        restarted.start_at = StartAt(start_at_name=start_at)
        return restarted

    ew_mod.ExecutionWorker._get_evaluation_entrypoint = entrypoint

    original_terminated = execution_mod.BaseExecutionWorkerCommunication.terminated

    def terminated(self) -> None:
        original_terminated(self)
        with _lock:
            wake = _watch.get(self.execution.exec_arn)
        if wake is not None:
            wake.set()

    execution_mod.BaseExecutionWorkerCommunication.terminated = terminated

    global NotRedrivableError
    NotRedrivableError = _not_redrivable_error()

    def redrive_execution(self):
        from moto.core.responses import ActionResult

        try:
            when = redrive(self._get_param("executionArn"))
        except ExecutionNotRedrivable as exc:
            raise NotRedrivableError(str(exc)) from None
        return ActionResult({"redriveDate": when})

    StepFunctionResponse.redrive_execution = redrive_execution
