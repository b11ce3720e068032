"""Journey runs of one customer: enter (re-entry rules, holdout, deterministic names), exit, stop.

The ``run#<journey>`` item is the lock: it is written conditionally before the
execution starts, so two deliveries of one trigger event start one execution,
and a customer is in a journey at most once at a time.

A journey that starts only for reachable customers (``requires_reachable``, the default) refuses
a customer no consented channel reaches (:mod:`polku.messaging.reachability`): outcome
``unreachable``, nothing written, no execution, not in the holdout either (a control group of
customers the journey could not have reached would flatter it).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal

from polku import clock
from polku.data import journey_state
from polku.journeys.registry import Journey
from polku.journeys.variants import assign, bucket
from polku.messaging import reachability

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def execution_name(journey: str, customer_id: str, trigger_id: str) -> str:
    """Deterministic and valid (<= 80 chars of [A-Za-z0-9-_]): same trigger, same name."""
    digest = hashlib.sha256(f"{journey}\x1f{customer_id}\x1f{trigger_id}".encode()).hexdigest()[:20]
    return f"{_SAFE.sub('_', customer_id)[:55]}-{digest}"


def in_holdout(journey: Journey, customer_id: str) -> bool:
    return journey.holdout > 0 and bucket(customer_id, f"{journey.name}#holdout") < journey.holdout


def _json_ready(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_ready(v) for v in value]
    return value


@dataclass
class EntryResult:
    outcome: str  # started | redelivered | holdout | running | once | cooldown | unreachable
    execution_name: str | None = None
    execution_arn: str | None = None
    reason: str | None = None  # why unreachable (the channel choice's words)


def enter(journey: Journey, customer_id: str, trigger: dict, sfn, prefix: str) -> EntryResult:
    """Start ``journey`` for the customer unless the re-entry policy or holdout says no.

    ``trigger`` is ``{"type", "event_id", "ts", "properties"}`` (a tracking event or a schedule tick).
    Raises :class:`polku.messaging.reachability.ProfileBehind` when the customer looks unreachable
    on a profile that has not applied the triggering event yet (the stream delivers it again).
    """
    name = execution_name(journey.name, customer_id, trigger["event_id"])
    sm_arn = journey.state_machine_arn(prefix)
    arn = sm_arn.replace(":stateMachine:", ":execution:") + ":" + name
    now_iso = clock.now_iso()
    holdout = in_holdout(journey, customer_id)
    variant = "holdout" if holdout else assign(customer_id, journey.name, journey.split)
    fields = dict(entered_at=now_iso, status="holdout" if holdout else "running", execution_name=name,
                  execution_arn=arn, trigger_event_id=trigger["event_id"], variant=variant)
    reach = None
    for _ in range(3):
        previous = journey_state.run(customer_id, journey.name)
        if previous is not None:
            if previous.trigger_event_id == trigger["event_id"]:
                if previous.status != "running":
                    return EntryResult("redelivered", previous.execution_name, previous.execution_arn)
                item = previous  # a redelivery: start again with the same name and input (idempotent)
                break
            if previous.status == "running" and not _finished(sfn, previous):
                return EntryResult("running", previous.execution_name, previous.execution_arn)
            if journey.reentry.policy == "once":
                return EntryResult("once", previous.execution_name, previous.execution_arn)
            ready = clock.parse_iso(previous.entered_at) + _dt.timedelta(hours=journey.reentry.cooldown_hours)
            if clock.now() < ready:
                return EntryResult("cooldown", previous.execution_name, previous.execution_arn)
            runs = int(previous.runs or 1) + 1
        else:
            runs = 1
        if journey.starts_only_reachable and reach is None:
            reach = reachability.check(customer_id, event_id=trigger["event_id"] if trigger.get("type") != "schedule" else None)
            if not reach.ok:
                return EntryResult("unreachable", reason=reach.reason)
        item = journey_state.claim_run(customer_id, journey.name, previous, runs=runs, **fields)
        if item is not None:
            break
    else:
        return EntryResult("running")
    if item.status == "holdout":
        return EntryResult("holdout", item.execution_name, None)
    execution_input = {
        "customer_id": customer_id,
        "journey": journey.name,
        "variant": item.variant,
        "entered_at": item.entered_at,
        "product_id": trigger_product(trigger),
        "trigger": _json_ready(trigger),
        "overrides": {},  # distributed-marketing block overrides (enrolments carry them)
    }
    try:
        sfn.start_execution(stateMachineArn=journey.live_arn(prefix), name=item.execution_name,
                            input=json.dumps(execution_input, sort_keys=True))
        outcome = "started" if item is not previous else "redelivered"
    except sfn.exceptions.ExecutionAlreadyExists:
        outcome = "redelivered"
    return EntryResult(outcome, item.execution_name, item.execution_arn)


def trigger_product(trigger: dict):
    """The product a journey is about: the event's product_id, or the first item's."""
    props = trigger.get("properties") or {}
    if props.get("product_id") is not None:
        return str(props["product_id"])
    items = props.get("items")
    if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("product_id") is not None:
        return str(items[0]["product_id"])
    return None


def _finished(sfn, run) -> bool:
    """A run item says running; is its execution really still running? (Fixes items of failed runs.)"""
    try:
        status = sfn.describe_execution(executionArn=run.execution_arn)["status"]
    except Exception:  # noqa: BLE001 - unknown execution: treat as finished
        status = "UNKNOWN"
    if status == "RUNNING":
        return False
    mark_exited(run.customer_id, run.journey, None, {"SUCCEEDED": "completed", "ABORTED": "stopped"}.get(status, "failed"))
    return True


def mark_exited(customer_id: str, journey: str, execution_id: str | None, reason: str) -> bool:
    """Record the end of the customer's current run (only if it is still the run ``execution_id``)."""
    return journey_state.exit_run(customer_id, journey, execution_id, reason, clock.now_iso())


def running(customer_id: str) -> list:
    return [r for r in journey_state.items(customer_id, journey_state.RUN) if r.status == "running"]


def record_stop(run, reason: str, cause: str) -> None:
    """Remember why an execution was stopped (Step Functions keeps no reason we can rely on)."""
    journey_state.put(run.customer_id, f"{journey_state.STOP}{run.execution_name}", journey=run.journey,
                      entered_at=clock.now_iso(), status=reason, exit_reason=reason,
                      execution_arn=run.execution_arn, detail={"cause": cause})


def stop_reason(customer_id: str, execution_name: str) -> str | None:
    stop = journey_state.find(customer_id, f"{journey_state.STOP}{execution_name}")
    return stop.exit_reason if stop is not None else None
