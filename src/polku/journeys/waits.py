"""Task-token waits: "wait for event X up to N days".

The ASL calls the WaitForEvent Lambda with ``.waitForTaskToken`` and a
``TimeoutSeconds``; :func:`register` stores the token. When the events stream
delivers a matching event, :func:`resume` sends the event to the execution
(SendTaskSuccess); without it the task times out and the Catch takes the timeout
branch.
"""

from __future__ import annotations

import hashlib
import json

from polku import clock
from polku.data import journey_state
from polku.journeys.conditions import check_matcher, ConditionError, matches

MAX_WAIT_SECONDS = 90 * 24 * 3600


class WaitInputError(ValueError):
    """Bad wait input (names the field)."""


def _need(event: dict, name: str):
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise WaitInputError(f"{name}: required (string)")
    return value


def register(event: dict) -> dict:
    token = _need(event, "token")
    customer_id = _need(event, "customer_id")
    event_type = _need(event, "event_type")
    journey = _need(event, "journey")
    where = event.get("where") or {}
    if not isinstance(where, dict):
        raise WaitInputError("where: must be a mapping of path: matcher")
    for path, matcher in where.items():
        try:
            check_matcher(path, matcher)
        except ConditionError as exc:
            raise WaitInputError(f"where: {exc}") from None
    timeout = event.get("timeout_seconds", MAX_WAIT_SECONDS)
    if not isinstance(timeout, int) or not 0 < timeout <= MAX_WAIT_SECONDS:
        raise WaitInputError(f"timeout_seconds: whole seconds in (0, {MAX_WAIT_SECONDS}]")
    digest = hashlib.sha256(token.encode()).hexdigest()[:24]
    now = clock.now()
    journey_state.put(
        customer_id, f"{journey_state.WAIT}{event_type}#{digest}", journey=journey, entered_at=clock.to_iso(now),
        status="waiting", token=token, event_type=event_type, where=where,
        execution_arn=event.get("execution_id"),
        expires_at=int(now.timestamp()) + timeout + 3600,
    )
    return {"registered": True}


def resume(customer_id: str, event: dict, sfn) -> int:
    """Resume every wait of the customer for this event type. Returns how many resumed."""
    resumed = 0
    now_ts = int(clock.now().timestamp())
    for w in journey_state.items(customer_id, f"{journey_state.WAIT}{event['type']}#"):
        if w.expires_at is not None and w.expires_at < now_ts:
            journey_state.delete(w)
            continue
        where = w.where.as_dict() if hasattr(w.where, "as_dict") else dict(w.where or {})
        if where and not matches(event, where):
            continue
        output = {"event_type": event["type"], "event_id": event["event_id"], "at": event.get("ts"),
                  "properties": event.get("properties") or {}}
        try:
            sfn.send_task_success(taskToken=w.token, output=json.dumps(output, sort_keys=True, default=str))
            resumed += 1
        except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist):
            pass  # the wait already ended (time-out or run stopped)
        journey_state.delete(w)
    return resumed
