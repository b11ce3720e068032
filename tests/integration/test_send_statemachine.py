"""The send step inside a real Step Functions execution on the twin (virtual clock):
a message asked for in quiet hours is deferred, the ASL waits until the returned
timestamp (TimestampPath), and the same state then sends it once."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from test_send_email import PRODUCTS, _put_profile, _to

pytestmark = pytest.mark.twin


def _definition(send_arn: str) -> str:
    return json.dumps({
        "StartAt": "SendWelcome",
        "States": {
            "SendWelcome": {
                "Type": "Task",
                "Resource": send_arn,
                "Parameters": {
                    "customer_id.$": "$.customer_id",
                    "journey": "welcome",
                    "step.$": "$$.State.Name",
                    "execution_id.$": "$$.Execution.Id",
                    "template": "welcome",
                    "message_type": "offer",
                    "recommendations.$": "$.products",
                },
                "ResultPath": "$.send",
                "Retry": [{"ErrorEquals": ["TransientDeliveryError", "MessageInProgress"], "IntervalSeconds": 5,
                           "BackoffRate": 2, "MaxAttempts": 3}],
                "Next": "Deferred?",
            },
            "Deferred?": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.send.status", "StringEquals": "deferred", "Next": "WaitForSendTime"}],
                "Default": "Done",
            },
            "WaitForSendTime": {"Type": "Wait", "TimestampPath": "$.send.send_at", "Next": "SendWelcome"},
            "Done": {"Type": "Succeed"},
        },
    })


def test_deferred_send_waits_for_the_timestamp_and_sends_once(twin, virtual_clock):
    virtual_clock.advance_to(dt.datetime(2026, 1, 5, 22, 0, tzinfo=dt.timezone.utc))  # midnight in Helsinki
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr)
    sfn = twin.client("stepfunctions")
    send_arn = twin.resolver.attrs[("SendFunction", "Arn")]
    sm = sfn.create_state_machine(name=f"test-send-{uuid.uuid4().hex[:8]}", definition=_definition(send_arn),
                                  roleArn=twin.role_arn)["stateMachineArn"]
    with virtual_clock.actor():
        ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps({"customer_id": cid, "products": PRODUCTS}))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex["executionArn"])
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert desc["status"] == "SUCCEEDED", desc
    out = json.loads(desc["output"])
    assert out["send"]["status"] == "sent"
    assert virtual_clock.now() >= dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.timezone.utc)  # waited until 08:00 local
    assert len(_to(twin, addr)) == 1
