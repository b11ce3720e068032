"""Enter one enrolled customer into a journey: the run lock in JourneyStateTable, then
StartExecution under a deterministic name (adapter: DynamoDB + Step Functions).

The ``run#<journey>`` item has the shape the journeys package writes (see
:mod:`polku.journeys.runs`): a customer is in a journey at most once at a time, and
the report sees enrolled runs like any other. Hand enrolment skips the holdout (a
person chose these customers) and the re-entry cool-down, but never starts a second
run while one is going.

Execution input (the journeys' contract)::

    {"customer_id", "journey", "variant", "entered_at", "product_id": null,
     "trigger": {"type": "enrollment", "event_id": <enrollment id>, "enrollment_id",
                 "by": <caller ARN>, "role", "ts", "properties": <the request's properties>},
     "overrides": {block: text}}
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from polku import aws_clients, clock
from polku.data import journey_state
from polku.journeys.registry import live_arn
from polku.journeys.variants import assign
from polku.settings import get_settings


def _sfn():
    return aws_clients.client("stepfunctions")


def _execution_running(arn: str | None) -> bool:
    if not arn:
        return False
    try:
        return _sfn().describe_execution(executionArn=arn)["status"] == "RUNNING"
    except ClientError:
        return False


def enter(*, journey: str, state_machine: str, split: dict, customer_id: str, name: str, enrollment_id: str,
          by: str, role: str, overrides: dict, properties: dict | None = None) -> tuple[str, str | None]:
    """Returns (outcome, execution ARN): ``started`` (also for a retry of this enrolment) or
    ``already_in_journey`` (the customer is in a run of this journey started by someone else)."""
    sm_arn = get_settings().state_machine_prefix + state_machine
    arn = sm_arn.replace(":stateMachine:", ":execution:") + ":" + name
    previous = journey_state.run(customer_id, journey)
    if previous is not None and previous.trigger_event_id == enrollment_id:
        item = previous  # a retried chunk: same name, same input
    else:
        if previous is not None and previous.status == "running" and _execution_running(previous.execution_arn):
            return "already_in_journey", previous.execution_arn
        item = journey_state.claim_run(
            customer_id, journey, previous, entered_at=clock.now_iso(), status="running",
            execution_name=name, execution_arn=arn, trigger_event_id=enrollment_id,
            variant=assign(customer_id, journey, split or {"A": 1.0}),
            runs=int(getattr(previous, "runs", 0) or 0) + 1,
        )
        if item is None:
            return "already_in_journey", None  # someone entered them just now
    payload = {
        "customer_id": customer_id,
        "journey": journey,
        "variant": item.variant,
        "entered_at": item.entered_at,
        "product_id": None,
        "trigger": {"type": "enrollment", "event_id": enrollment_id, "enrollment_id": enrollment_id, "by": by,
                    "role": role, "ts": item.entered_at, "properties": dict(properties or {})},
        "overrides": overrides,
    }
    try:
        out = _sfn().start_execution(stateMachineArn=live_arn(get_settings().state_machine_prefix, state_machine), name=name, input=json.dumps(payload, sort_keys=True))
        return "started", out["executionArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            return "started", arn
        raise
