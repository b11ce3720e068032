"""Failed journeys reach the journey-failures queue, as on AWS: the twin emits Step Functions
execution status-change events on the default bus (src/polku/twin/sfn_events.py) and the
template's JourneyFailureRule routes FAILED and TIMED_OUT ones to the queue; runs Polku stops on a
goal event (ABORTED) and runs that succeed do not go there. And the scheduler's asynchronous
invocations that keep failing land in its DeadLetterQueue after Lambda's two retries."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from polku.twin import sfn_events

pytestmark = pytest.mark.twin

ROLE = "arn:aws:iam::123456789012:role/polku-test"
DEFINITIONS = {
    "fails": {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "step kept failing"}}},
    "succeeds": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
    "stopped": {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}},
}


def _finished(sfn, arn, deadline=20.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        status = sfn.describe_execution(executionArn=arn)["status"]
        if status != "RUNNING":
            return status
        time.sleep(0.05)
    raise AssertionError(f"{arn} still running")


def _take(sqs, url, pick, ready=lambda taken: True, deadline=10.0) -> list[dict]:
    """The messages of ``url`` that ``pick`` selects, deleted as they are taken; polls until
    ``ready(taken)`` (an event is put just after the status it reports is set). The queues are
    shared by the session: other messages are left alone, hidden for a while so that each receive
    sees new ones."""
    taken: list[dict] = []
    end = time.monotonic() + deadline
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=30,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        for m in batch:
            if pick(m):
                taken.append(m)
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        if not batch:
            if ready(taken) or time.monotonic() > end:
                return taken
            time.sleep(0.1)


def _arn(message: dict) -> str | None:
    return json.loads(message["Body"]).get("detail", {}).get("executionArn")


def _machine(sfn, prefix, kind):
    return sfn.create_state_machine(name=f"{prefix}{kind}-{uuid.uuid4().hex[:8]}",
                                    definition=json.dumps(DEFINITIONS[kind]), roleArn=ROLE)["stateMachineArn"]


def test_a_failed_journey_lands_in_the_failures_queue_and_stopped_or_finished_ones_do_not(twin):
    sfn, sqs = twin.client("stepfunctions"), twin.client("sqs")
    prefix = f"polku-{twin.parameters['Stage']}-"  # the stage prefix the failures rule matches
    runs = {kind: sfn.start_execution(stateMachineArn=_machine(sfn, prefix, kind), input='{"customer_id": "c1"}')[
        "executionArn"] for kind in DEFINITIONS}
    sfn.stop_execution(executionArn=runs["stopped"], error="goal", cause="purchase e-1")
    assert {k: _finished(sfn, a) for k, a in runs.items()} == {
        "fails": "FAILED", "succeeds": "SUCCEEDED", "stopped": "ABORTED"}

    taken = _take(sqs, twin.outputs["JourneyFailuresQueueUrl"], lambda m: _arn(m) in runs.values(),
                  ready=lambda t: any(_arn(m) == runs["fails"] for m in t))
    assert [_arn(m) for m in taken] == [runs["fails"]], taken  # goal stops (ABORTED) and successes are not failures
    event = json.loads(taken[0]["Body"])
    assert event["source"] == "aws.states" and event["detail-type"] == "Step Functions Execution Status Change"
    assert event["resources"] == [runs["fails"]]
    detail = event["detail"]
    assert detail["status"] == "FAILED" and detail["error"] == "Boom" and detail["cause"] == "step kept failing"
    assert json.loads(detail["input"]) == {"customer_id": "c1"} and detail["output"] is None
    assert detail["stopDate"] >= detail["startDate"] > 0


def test_every_status_change_is_on_the_default_bus_in_order(twin):
    """A rule of our own on the default bus sees RUNNING, then the final status, per execution."""
    sfn, sqs, events = twin.client("stepfunctions"), twin.client("sqs"), twin.client("events")
    run = uuid.uuid4().hex[:8]
    url = sqs.create_queue(QueueName=f"status-{run}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    machine = _machine(sfn, f"other-{run}-", "succeeds")
    events.put_rule(Name=f"status-{run}", EventPattern=json.dumps({
        "source": ["aws.states"], "detail": {"stateMachineArn": [machine]}}))
    events.put_targets(Rule=f"status-{run}", Targets=[{"Id": "q", "Arn": queue_arn}])
    try:
        arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        assert _finished(sfn, arn) == "SUCCEEDED"
        got = [json.loads(m["Body"]) for m in _take(sqs, url, lambda m: _arn(m) == arn, ready=lambda t: len(t) >= 2)]
        assert [e["detail"]["status"] for e in got] == ["RUNNING", "SUCCEEDED"]
        assert got[0]["detail"]["stopDate"] is None and json.loads(got[1]["detail"]["output"]) == {}
        # the failures rule's prefix is the stage's: this machine's failures would not go there
        assert not machine.split(":")[-1].startswith("polku-")
    finally:
        events.remove_targets(Rule=f"status-{run}", Ids=["q"])
        events.delete_rule(Name=f"status-{run}")


def test_scheduled_and_disabled_rules_match_no_events():
    class Pattern:
        def __init__(self, pattern):
            self._pattern = pattern

    class Rule:
        def __init__(self, state, schedule, pattern):
            self.state, self.scheduled_expression, self.event_pattern = state, schedule, Pattern(pattern)

    assert sfn_events.offered_to(Rule("ENABLED", None, {"source": ["aws.states"]}))
    assert not sfn_events.offered_to(Rule("ENABLED", "rate(1 hour)", {}))  # a schedule only
    assert not sfn_events.offered_to(Rule("DISABLED", None, {"source": ["aws.states"]}))


def test_an_async_invocation_that_keeps_failing_is_retried_then_dead_lettered(twin, monkeypatch):
    """The scheduler's segments are asynchronous invocations: as on Lambda, one that still fails
    after two retries goes to the function's DeadLetterQueue with the error; the caller sees 202."""
    from polku.twin import lambda_runtime

    calls = []
    original = lambda_runtime.invoke
    monkeypatch.setattr(lambda_runtime, "invoke", lambda name, event: calls.append(name) or original(name, event))
    lam, sqs = twin.client("lambda"), twin.client("sqs")
    name, url = twin.names["JourneySchedulerFunction"], twin.outputs["SchedulerDLQUrl"]
    marker = f"bad-{uuid.uuid4().hex[:8]}"
    bad = {"segment": 5, "total_segments": 2, "when": "2026-01-05T08:00:00Z", "marker": marker}
    resp = lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(bad).encode())
    assert resp["StatusCode"] == 202 and "FunctionError" not in resp
    assert calls == [name] * 3  # the invocation and Lambda's two retries
    (letter,) = _take(sqs, url, lambda m: marker in m["Body"])  # sent before the invoke call returned
    assert json.loads(letter["Body"]) == bad
    attrs = {k: v["StringValue"] for k, v in letter["MessageAttributes"].items()}
    assert attrs["ErrorMessage"].startswith("segment: a whole number from 0 to 1") and attrs["RequestID"]

    calls.clear()
    good = {"segment": 0, "total_segments": 64, "when": "2026-01-05T03:00:00Z", "marker": marker}
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(good).encode())["StatusCode"] == 202
    assert calls == [name] and _take(sqs, url, lambda m: marker in m["Body"]) == []
