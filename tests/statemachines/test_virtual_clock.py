"""Step Functions on the twin follow the shared virtual clock: days of journey in moments."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from polku import clock

DAY = 86400


def _machine(twin, definition: dict) -> str:
    sfn = twin.client("stepfunctions")
    return sfn.create_state_machine(
        name=f"test-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=twin.role_arn
    )["stateMachineArn"]


def _run(twin, arn: str, payload: dict) -> dict:
    sfn = twin.client("stepfunctions")
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps(payload))["executionArn"]
    return _finished(sfn, ex)


def _finished(sfn, ex: str, real_seconds_limit: float = 20.0) -> dict:
    deadline = time.monotonic() + real_seconds_limit
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex)
        if desc["status"] != "RUNNING":
            return desc
        time.sleep(0.01)
    pytest.fail(f"execution still RUNNING after {real_seconds_limit}s of real time: the clock did not advance")


def _step(twin) -> str:
    return twin.resolver.attrs[("JourneyStepFunction", "Arn")]


def test_three_day_wait_finishes_at_once_with_the_clock_three_days_later(twin, virtual_clock):
    start = virtual_clock.now()
    arn = _machine(twin, {
        "StartAt": "Before",
        "States": {
            "Before": {"Type": "Task", "Resource": _step(twin), "Parameters": {"action": "now"},
                       "ResultPath": "$.before", "Next": "ThreeDays"},
            "ThreeDays": {"Type": "Wait", "Seconds": 3 * DAY, "Next": "After"},
            "After": {"Type": "Task", "Resource": _step(twin), "Parameters": {"action": "now"},
                      "ResultPath": "$.after", "End": True},
        },
    })
    wall = time.monotonic()
    desc = _run(twin, arn, {})
    wall = time.monotonic() - wall
    out = json.loads(desc["output"])
    assert desc["status"] == "SUCCEEDED"
    # The real step handler ran on both sides of the wait and saw virtual time.
    assert clock.parse_iso(out["before"]["now"]) == start
    assert clock.parse_iso(out["after"]["now"]) == start + dt.timedelta(days=3)
    assert virtual_clock.now() == start + dt.timedelta(days=3)
    print(f"3-day Wait: {wall * 1000:.0f} ms of wall time")


def test_timestamp_path_wait_uses_the_virtual_now(twin, virtual_clock):
    start = virtual_clock.now()
    target = clock.to_iso(start + dt.timedelta(hours=30)).replace(".000Z", "Z")
    arn = _machine(twin, {
        "StartAt": "Until",
        "States": {
            "Until": {"Type": "Wait", "TimestampPath": "$.send_at", "Next": "After"},
            "After": {"Type": "Task", "Resource": _step(twin), "Parameters": {"action": "now"}, "End": True},
        },
    })
    desc = _run(twin, arn, {"send_at": target})
    assert desc["status"] == "SUCCEEDED"
    assert clock.parse_iso(json.loads(desc["output"])["now"]) == start + dt.timedelta(hours=30)


def test_retry_backoff_sleeps_on_the_virtual_clock(twin, virtual_clock):
    start = virtual_clock.now()
    arn = _machine(twin, {
        "StartAt": "Bad",
        "States": {
            "Bad": {"Type": "Task", "Resource": _step(twin), "Parameters": {"action": "no-such-action"},
                    "Retry": [{"ErrorEquals": ["StepInputError"], "IntervalSeconds": 3600, "MaxAttempts": 2,
                               "BackoffRate": 2.0}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                    "End": True},
            "Caught": {"Type": "Pass", "End": True},
        },
    })
    desc = _run(twin, arn, {})
    assert desc["status"] == "SUCCEEDED"
    out = json.loads(desc["output"])
    # The real handler's error name reached Retry/Catch; back-off 1 h + 2 h passed virtually.
    assert out["error"]["Error"] == "StepInputError"
    assert virtual_clock.now() == start + dt.timedelta(hours=3)


def _token_wait(twin, **extra) -> dict:
    """A task-token wait for a purchase, up to two days."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": _step(twin), "Payload": {"action": "now", "token.$": "$$.Task.Token"}},
        "TimeoutSeconds": 2 * DAY,
        "End": True,
        **extra,
    }


def test_task_token_wait_times_out_on_the_virtual_clock(twin, virtual_clock):
    start = virtual_clock.now()
    arn = _machine(twin, {
        "StartAt": "WaitForPurchase",
        "States": {
            "WaitForPurchase": _token_wait(twin, Catch=[{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout",
                                                         "Next": "NoPurchase"}]),
            "NoPurchase": {"Type": "Pass", "Result": "timed out", "ResultPath": "$.outcome", "End": True},
        },
    })
    desc = _run(twin, arn, {})
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"])["outcome"] == "timed out"
    assert virtual_clock.now() == start + dt.timedelta(days=2)


def test_task_token_success_resumes_before_the_timeout(twin, virtual_clock):
    sfn = twin.client("stepfunctions")
    start = virtual_clock.now()
    arn = _machine(twin, {"StartAt": "WaitForPurchase",
                          "States": {"WaitForPurchase": _token_wait(twin, ResultPath="$.purchase")}})
    with virtual_clock.actor():  # the driver holds time until it has answered
        ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        token = None
        deadline = time.monotonic() + 10
        while token is None and time.monotonic() < deadline:
            for ev in sfn.get_execution_history(executionArn=ex)["events"]:
                details = ev.get("taskScheduledEventDetails") or {}
                if details.get("parameters"):
                    token = json.loads(details["parameters"])["Payload"]["token"]
            time.sleep(0.01)
        assert token, "the task token never appeared in the history"
        virtual_clock.sleep(3600)  # one virtual hour later the customer buys
        sfn.send_task_success(taskToken=token, output=json.dumps({"order_id": "o-1"}))
    desc = _finished(sfn, ex)
    assert desc["status"] == "SUCCEEDED"
    assert json.loads(desc["output"])["purchase"] == {"order_id": "o-1"}
    assert virtual_clock.now() == start + dt.timedelta(hours=1)


def test_an_execution_keeps_the_clock_it_started_under(twin):
    """An execution started on the real clock (an integration test's) that is still waiting when a
    simulation installs a virtual clock goes on in real time: it neither reads the virtual time nor
    counts against the virtual clock's actors (which made the clock jump while a simulation's driver
    was still feeding events, issue #24's CI failure)."""
    assert not clock.get_clock().virtual
    arn = _machine(twin, {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Wait", "Seconds": 1, "Next": "Second"},
            "Second": {"Type": "Wait", "Seconds": 1, "Next": "After"},
            "After": {"Type": "Task", "Resource": _step(twin), "Parameters": {"action": "now"}, "End": True},
        },
    })
    sfn = twin.client("stepfunctions")
    ex = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    t0 = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
    vc = clock.VirtualClock(t0)
    previous = clock.set_clock(vc)
    try:
        with vc.actor():  # a simulation's driver, busy feeding an event
            desc = _finished(sfn, ex)
            assert vc.now() == t0 and vc.active == 1 and vc.sleeping == 0
    finally:
        clock.set_clock(previous)
    assert desc["status"] == "SUCCEEDED"
    assert clock.parse_iso(json.loads(desc["output"])["now"]).year == dt.datetime.now(dt.timezone.utc).year
