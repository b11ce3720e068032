"""Exactly once on every failure path of the send step (issue #21, 1 and 7).

Faults are injected at the edges only: around the twin's real SES v2 client (a sent message is
counted where it lands, in moto's SES) and at PynamoDB's connection for the message log. The
step, the message log, the suppression list and the profile are the real ones on the twin.
For each step — before the provider, a provider error, after the provider, the log write, the
Lambda killed — the retried step (Step Functions' Retry) never makes a second provider send.
The last tests run the journeys' real Send retry schedule in a Step Functions execution.
"""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.connection.base import Connection
from pynamodb.exceptions import UpdateError

from polku.data import messages
from polku.messaging import message_log
from polku.messaging.delivery import TransientDeliveryError
from polku.messaging.send_message import SendInput, send_message
from polku.messaging.ses_sender import SesSender
from polku.twin.lambda_runtime import LambdaKilled

from test_send_email import PRODUCTS, _payload, _put_profile, _to

pytestmark = pytest.mark.twin

REPO_STATEMACHINES = __import__("pathlib").Path(__file__).resolve().parents[2] / "statemachines"


class FaultySes:
    """The twin's real SES v2 client with faults around the call: ``before`` errors are raised
    instead of sending; ``after`` errors are raised once SES has accepted the message."""

    def __init__(self, real, *, before=(), after=(), on_accept=None, answer=None):
        self.real, self.before, self.after = real, list(before), list(after)
        self.on_accept, self.answer = on_accept, answer

    def send_email(self, **kw):
        if self.before:
            raise self.before.pop(0)
        out = self.real.send_email(**kw)  # accepted: the message is in moto's SES from here on
        if self.on_accept:
            self.on_accept()
        if self.after:
            raise self.after.pop(0)
        return self.answer if self.answer is not None else out


def _deps(client=None, **faults):
    from polku.messaging.wiring import send_deps

    deps = send_deps()
    deps.email = SesSender(FaultySes(deps.email.client, **faults), deps.email.configuration_set)
    return deps


@pytest.fixture
def customer(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr)
    return cid, addr


def _inp(cid):
    return SendInput.parse(_payload(cid, recommendations=PRODUCTS))


def _mid(inp):
    return message_log.message_id_for(inp.execution_id, inp.step)


def _throttled():
    return ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "slow down"},
                        "ResponseMetadata": {"HTTPStatusCode": 429}}, "SendEmail")


@pytest.fixture
def failing_log_writes(monkeypatch):
    """Arms N failures of the message log's UpdateItem for one message (the DynamoDB edge)."""
    armed: dict[str, int] = {}
    original = Connection.update_item

    def update_item(self, table_name, hash_key, *args, **kwargs):
        if armed.get(hash_key, 0) > 0:
            armed[hash_key] -= 1
            raise UpdateError("Failed to update item", cause=ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "injected"}}, "UpdateItem"))
        return original(self, table_name, hash_key, *args, **kwargs)

    monkeypatch.setattr(Connection, "update_item", update_item)
    monkeypatch.setattr(message_log, "OUTCOME_WRITE_PAUSES", (0.0, 0.0, 0.0), raising=False)
    return armed


@pytest.fixture
def error_lines():
    from polku.observability import logger

    lines: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.ERROR:
                lines.append(record)

    handler = Keep()
    std = logging.getLogger(logger.service)
    std.addHandler(handler)
    yield lines
    std.removeHandler(handler)


# ------------------------------------------------------------------ before the provider
def test_failure_before_the_provider_releases_the_claim_and_the_retry_sends_once(customer, monkeypatch):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps()
    real_load = deps.load_profile
    deps.load_profile = lambda c: (_ for _ in ()).throw(RuntimeError("profiles table unreachable"))
    with pytest.raises(RuntimeError):
        send_message(inp, deps)
    assert messages.get(_mid(inp)).status == "retry" and _to(None, addr) == []
    deps.load_profile = real_load
    assert send_message(inp, deps)["status"] == "sent"
    assert send_message(inp, deps).get("replayed")
    assert len(_to(None, addr)) == 1


def test_lambda_killed_before_the_provider_is_taken_over_after_the_lease_and_sent_once(customer, virtual_clock):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps()
    real_load = deps.load_profile

    def killed(c):
        raise LambdaKilled("out of memory")

    deps.load_profile = killed
    with pytest.raises(LambdaKilled):
        send_message(inp, deps)
    deps.load_profile = real_load
    with pytest.raises(message_log.MessageInProgress):  # Step Functions' first retry, 2 s later
        send_message(inp, deps)
    virtual_clock.advance(message_log.SENDING_LEASE_SECONDS + 1)
    out = send_message(inp, deps)
    assert out["status"] == "sent" and not out.get("replayed")
    assert len(_to(None, addr)) == 1 and messages.get(_mid(inp)).attempts == 2


# ------------------------------------------------------------------ provider errors
def test_provider_refusal_is_retried_and_sent_once(customer):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps(before=[_throttled()])
    with pytest.raises(TransientDeliveryError):
        send_message(inp, deps)
    assert messages.get(_mid(inp)).status == "retry"
    assert send_message(inp, deps)["status"] == "sent"
    assert len(_to(None, addr)) == 1


def test_read_timeout_after_the_provider_accepted_is_unknown_and_never_resent(customer):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps(after=[ReadTimeoutError(endpoint_url="https://email.eu-west-1.amazonaws.com")])
    out = send_message(inp, deps)
    assert out["status"] == "unknown" and "Read timeout" in out["reason"]
    again = send_message(inp, deps)
    assert again["status"] == "unknown" and again.get("replayed")
    assert len(_to(None, addr)) == 1


# ------------------------------------------------------------------ after the provider
def test_error_after_the_provider_accepted_is_unknown_and_never_resent(customer):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps(answer={"ResponseMetadata": {}})  # accepted, but the answer has no MessageId
    out = send_message(inp, deps)
    assert out["status"] == "unknown" and "KeyError" in out["reason"]
    assert send_message(inp, deps).get("replayed")
    assert len(_to(None, addr)) == 1 and messages.get(_mid(inp)).status == "unknown"


# ------------------------------------------------------------------ the log write fails
def test_sent_update_failing_once_is_retried_and_the_message_is_not_sent_twice(customer, failing_log_writes):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps(on_accept=lambda: failing_log_writes.__setitem__(_mid(inp), 1))
    out = send_message(inp, deps)
    assert out["status"] == "sent" and "recorded" not in out
    stored = messages.get(_mid(inp))
    assert stored.status == "sent" and stored.provider == "ses" and stored.provider_id
    assert send_message(inp, deps).get("replayed")  # Step Functions' Retry after a lost answer
    assert len(_to(None, addr)) == 1


def test_sent_update_failing_every_time_keeps_the_claim_alarms_and_never_resends(
        customer, failing_log_writes, error_lines, virtual_clock):
    cid, addr = customer
    inp = _inp(cid)
    mid = _mid(inp)
    deps = _deps(on_accept=lambda: failing_log_writes.__setitem__(mid, 100))
    out = send_message(inp, deps)
    assert out["status"] == "sent" and out["recorded"] is False
    assert messages.get(mid).status == "sending"  # never released for a resend
    [line] = [r for r in error_lines if "outcome not recorded" in r.getMessage()]
    assert line.message_id == mid and line.provider == "ses"
    failing_log_writes[mid] = 0
    with pytest.raises(message_log.MessageInProgress):  # a retry while the lease runs
        send_message(inp, deps)
    virtual_clock.advance(message_log.SENDING_LEASE_SECONDS + 1)
    late = send_message(inp, deps)
    assert late["status"] == "unknown" and late.get("replayed")
    assert len(_to(None, addr)) == 1


# ------------------------------------------------------------------ the Lambda is killed
def test_lambda_killed_after_the_provider_accepted_is_never_resent(customer, virtual_clock):
    cid, addr = customer
    inp = _inp(cid)
    deps = _deps(after=[LambdaKilled("timed out")])
    with pytest.raises(LambdaKilled):
        send_message(inp, deps)
    assert messages.get(_mid(inp)).status == "sending"
    with pytest.raises(message_log.MessageInProgress):
        send_message(inp, deps)
    virtual_clock.advance(message_log.SENDING_LEASE_SECONDS + 1)
    late = send_message(inp, deps)
    assert late["status"] == "unknown" and late.get("replayed")
    assert len(_to(None, addr)) == 1


# ------------------------------------------------------------------ the journeys' retry schedule
def _send_retry() -> list:
    """The Retry of a Send task as the shipped journeys have it."""
    doc = json.loads((REPO_STATEMACHINES / "welcome.asl.json").read_text())
    return doc["States"]["SendWelcome"]["Retry"]


def _run_send(twin, virtual_clock, payload: dict) -> dict:
    sfn = twin.client("stepfunctions")
    definition = {"StartAt": "Send", "States": {"Send": {
        "Type": "Task", "Resource": twin.resolver.attrs[("SendFunction", "Arn")], "ResultPath": "$.send",
        "Parameters": {**payload, "step.$": "$$.State.Name", "execution_id.$": "$$.Execution.Id"},
        "Retry": _send_retry(), "End": True}}}
    sm = sfn.create_state_machine(name=f"test-once-{uuid.uuid4().hex[:8]}", definition=json.dumps(definition),
                                  roleArn=twin.role_arn)["stateMachineArn"]
    with virtual_clock.actor():
        ex = sfn.start_execution(stateMachineArn=sm, input="{}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex["executionArn"])
        if desc["status"] != "RUNNING":
            return desc
        time.sleep(0.05)
    raise AssertionError("the execution did not finish")


def _without_ids(payload):
    return {k: v for k, v in payload.items() if k not in ("step", "execution_id")}


def test_a_send_killed_after_the_provider_resumes_the_journey_without_resending(twin, customer, virtual_clock,
                                                                                 monkeypatch):
    cid, addr = customer
    original = SesSender.send
    calls = []

    def killed_after_send(self, **kw):
        delivered = original(self, **kw)
        calls.append(kw["to"])
        if len(calls) == 1:
            raise LambdaKilled("Send timed out after SES accepted the mail")
        return delivered

    monkeypatch.setattr(SesSender, "send", killed_after_send)
    start = virtual_clock.now()
    desc = _run_send(twin, virtual_clock, _without_ids(_payload(cid)))
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"])["send"]["status"] == "unknown"
    assert (virtual_clock.now() - start).total_seconds() > message_log.SENDING_LEASE_SECONDS
    assert len(_to(None, addr)) == 1 and calls == [addr]


def test_a_send_killed_while_the_provider_answers_resumes_the_journey_unsent(twin, customer, virtual_clock,
                                                                              monkeypatch):
    cid, addr = customer
    original = SesSender.send
    kills = []

    def killed_in_send(self, **kw):
        if not kills:
            kills.append(1)
            raise LambdaKilled("Send timed out before SES answered")
        return original(self, **kw)

    monkeypatch.setattr(SesSender, "send", killed_in_send)
    desc = _run_send(twin, virtual_clock, _without_ids(_payload(cid)))
    assert desc["status"] == "SUCCEEDED", desc
    # killed after the hand-over: the provider may have it, so the journey goes on with "unknown"
    assert json.loads(desc["output"])["send"]["status"] == "unknown"
    assert _to(None, addr) == []


def test_a_send_killed_before_the_provider_resumes_and_sends_once(twin, customer, virtual_clock, monkeypatch):
    from polku.tracking import profile_store

    cid, addr = customer
    original = profile_store.load
    kills = []

    def killed_reading_profile(*args):
        if not kills:
            kills.append(1)
            raise LambdaKilled("Send timed out reading the profile")
        return original(*args)

    monkeypatch.setattr(profile_store, "load", killed_reading_profile)
    desc = _run_send(twin, virtual_clock, _without_ids(_payload(cid)))
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"])["send"]["status"] == "sent"
    assert len(_to(None, addr)) == 1


def test_bad_send_input_is_not_retried(twin, virtual_clock):
    desc = _run_send(twin, virtual_clock, {"customer_id": "c-x", "journey": "welcome", "template": "welcome",
                                           "message_type": "bogus"})
    assert desc["status"] == "FAILED" and desc["error"] == "SendInputError"
    history = twin.client("stepfunctions").get_execution_history(executionArn=desc["executionArn"])["events"]
    assert sum(1 for e in history if e["type"] == "LambdaFunctionScheduled") == 1


def test_lint_refuses_a_send_retry_shorter_than_the_lease_or_retrying_bad_input():
    from polku.journeys.lint import Context, definition_findings

    old = [{"ErrorEquals": ["StepInputError"], "MaxAttempts": 0},
           {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 4, "BackoffRate": 2.0,
            "MaxDelaySeconds": 60}]
    ctx = Context(substitutions={"SendFunctionArn"}, step_actions=set(), bounded_actions={}, templates={"welcome"})

    def findings(retry):
        doc = {"Comment": "c", "StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "${SendFunctionArn}", "Parameters": {"template": "welcome"},
                  "ResultPath": "$.a", "Retry": retry, "Next": "D?"},
            "D?": {"Type": "Choice", "Choices": [{"Variable": "$.a.status", "StringEquals": "deferred", "Next": "W"}],
                   "Default": "Done"},
            "W": {"Type": "Wait", "TimestampPath": "$.a.send_at", "Next": "A"},
            "Done": {"Type": "Succeed"}}}
        return [f.message for f in definition_findings("j.asl.json", json.dumps(doc), ctx)]

    msgs = findings(old)
    assert any("retries SendInputError" in m for m in msgs)
    assert any("MessageInProgress for 30 s" in m for m in msgs)
    assert findings(_send_retry()) == []


def test_botocore_does_not_send_again_after_a_read_timeout(twin):
    """A read time-out may come after SES accepted the mail: botocore's own retry must not send it
    again (throttling is still retried by botocore: refused requests are safe to repeat)."""
    import boto3
    from botocore.config import Config

    from polku.messaging.delivery import DeliveryError

    client = boto3.client("sesv2", config=Config(retries={"mode": "standard", "max_attempts": 4}))  # as wiring's
    attempts = []

    def times_out(request, **_):
        attempts.append(request.url)
        raise ReadTimeoutError(endpoint_url=request.url)

    client.meta.events.register_first("before-send.sesv2.SendEmail", times_out)
    sender = SesSender(client, None)
    with pytest.raises(DeliveryError) as err:
        sender.send(sender="hello@example.com", to="x@example.org", raw=b"Subject: x\r\n\r\nx", message_id="m-1",
                    journey="welcome")
    assert err.value.ambiguous and not err.value.transient
    assert len(attempts) == 1
