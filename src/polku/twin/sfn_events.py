"""Step Functions execution status-change events on the twin's default event bus, as AWS sends them.

AWS puts a ``Step Functions Execution Status Change`` event (source ``aws.states``) on the
account's default bus whenever a standard execution starts (RUNNING) and when it ends
(SUCCEEDED, FAILED, TIMED_OUT, ABORTED); rules on that bus route them (Polku's
``JourneyFailureRule`` sends failed and timed-out journeys to the ``journey-failures`` queue).
moto does not emit them, so without this the rule was declared but never exercised. The event
is put straight into moto's EventBridge backend of the execution's account and region (a
customer's PutEvents may not use an ``aws.`` source), where moto matches it against the rules
and delivers it to their targets, as for any other event.

moto's EventBridge offers events to every rule on the bus, including scheduled rules (which it
treats as matching everything, and whose Lambda targets it cannot deliver to: NotImplementedError)
and disabled ones. On AWS a rule with only a schedule matches no events and a disabled rule none
either; ``apply()`` makes moto's rules answer that way too, before these events reach the default
bus where the template's schedules live.

The detail follows AWS's documented shape: ``executionArn``, ``stateMachineArn``, ``name``,
``status``, ``startDate`` and ``stopDate`` (epoch milliseconds, ``stopDate`` null while running),
``input``/``output`` (JSON strings, ``output`` only on success) with their ``*Details``, and
``error``/``cause`` where the execution has them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from polku import clock

DETAIL_TYPE = "Step Functions Execution Status Change"
SOURCE = "aws.states"

log = logging.getLogger(__name__)
_applied = False


def _millis(value: dt.datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)


def detail(execution, status: str | None = None) -> dict:
    """The event detail for ``execution`` (moto's parser Execution) in ``status``, by default its current one."""
    if status is None:
        status = getattr(execution.exec_status, "value", execution.exec_status)
    out = {
        "executionArn": execution.exec_arn,
        # a run of a published version (polku.twin.sfn_versions) names the state machine, as on AWS
        "stateMachineArn": getattr(execution.state_machine, "source_arn", None) or execution.state_machine.arn,
        "name": execution.name,
        "status": status,
        "startDate": _millis(execution.start_date),
        "stopDate": _millis(execution.stop_date) if status != "RUNNING" else None,
        "input": json.dumps(execution.input_data, separators=(",", ":")),
        "output": None,
        "inputDetails": {"included": True},
        "outputDetails": None,
    }
    if status == "SUCCEEDED":
        out["output"] = json.dumps(execution.output, separators=(",", ":"))
        out["outputDetails"] = {"included": True}
    if execution.error is not None:
        out["error"] = execution.error
    if execution.cause is not None:
        out["cause"] = execution.cause
    return out


def emit(execution, status: str | None = None) -> None:
    """Put the execution's status-change event on its account's default bus (moto's backend)."""
    from moto.events.models import events_backends

    try:
        backend = events_backends[execution.account_id][execution.region_name]
        backend.put_events([{
            "Source": SOURCE,
            "DetailType": DETAIL_TYPE,
            "Detail": json.dumps(detail(execution, status), separators=(",", ":")),
            "Resources": [execution.exec_arn],
            "EventBusName": "default",
            "Time": clock.now().timestamp(),  # the shared clock: virtual in a simulation
        }])
    except Exception:  # noqa: BLE001 - a status event must never break the execution it reports
        log.exception("twin: could not emit the status-change event of %s", execution.exec_arn)


def offered_to(rule) -> bool:
    """Whether AWS would offer an event to ``rule`` at all: enabled, and with an event pattern
    (a rule with only a schedule expression matches no events)."""
    if rule.state != "ENABLED":
        return False
    return not (rule.scheduled_expression and not getattr(rule.event_pattern, "_pattern", None))


def apply() -> None:
    """Emit RUNNING when an execution starts and its final status when it ends; scheduled and
    disabled rules match no events (idempotent)."""
    global _applied
    if _applied:
        return
    _applied = True
    from moto.events.models import Rule
    from moto.stepfunctions.parser.backend import execution as execution_mod

    original_send_to_targets = Rule.send_to_targets

    def send_to_targets(self, original_event, transform_input: bool = True) -> None:
        if offered_to(self):
            original_send_to_targets(self, original_event, transform_input)

    Rule.send_to_targets = send_to_targets

    original_start = execution_mod.Execution.start

    def start(self) -> None:
        # RUNNING goes out before the worker thread starts, so it always precedes the final status.
        # Standard workflows only (express ones send no events); a second start raises as before.
        if type(self) is execution_mod.Execution and not self.exec_worker:
            emit(self, "RUNNING")
        original_start(self)

    execution_mod.Execution.start = start

    original_terminated = execution_mod.BaseExecutionWorkerCommunication.terminated

    def terminated(self) -> None:
        original_terminated(self)
        if type(self.execution) is execution_mod.Execution:
            emit(self.execution)

    execution_mod.BaseExecutionWorkerCommunication.terminated = terminated
