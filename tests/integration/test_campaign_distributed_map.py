"""A campaign to 2,000 profiles through the Distributed Map on the twin, with a crash mid-way and a redrive:
every recipient gets exactly one message (issue #18, 3).

The Send function is killed (as Lambda kills a timed-out invocation: no handler code runs after it)
from the 900th message on, in the middle of a batch, until the fault is lifted. Its Retry runs the
batch again and dies again, so children fail beyond ToleratedFailurePercentage and the execution
fails with States.ExceedToleratedFailureThreshold, with some batches done, one half done and the
rest never started. The redrive runs only the children that did not succeed; the recipients a
half-done batch had already reached are answered from the message log. Quiet hours defer the
New York recipients (03:00 there): their batches wait on the virtual clock and send at 08:00.
"""

from __future__ import annotations

import json
import threading
from collections import Counter

import pytest

from polku.messaging import send_message as send_module
from polku.twin import distributed_map
from polku.twin.lambda_runtime import LambdaKilled
from tests.integration import campaign_helpers as h

pytestmark = pytest.mark.twin

N = 2000
CRASH_AT = 900


class Fault:
    """Kills the Send function's handler before a message once ``after`` messages went out."""

    def __init__(self, after: int):
        self.after, self.calls, self.kills, self.armed = after, 0, 0, True
        self.lock = threading.Lock()
        self.real = send_module.send_message

    def __call__(self, inp, deps):
        with self.lock:
            self.calls += 1
            if self.armed and self.calls > self.after:
                self.kills += 1
                raise LambdaKilled("fault injected by the test")
        return self.real(inp, deps)


def ses_copies(twin) -> Counter:
    """How many e-mails SES accepted per Polku message id (a duplicate would count 2)."""
    from moto.ses.models import ses_backends

    from polku.messaging.outbox import _POLKU_ID
    from polku.twin.twin import ACCOUNT_ID, REGION

    out = Counter()
    for m in list(ses_backends[ACCOUNT_ID][REGION].sent_messages):
        found = _POLKU_ID.search(getattr(m, "raw_data", "") or "")
        if found:
            out[found.group(1)] += 1
    return out


def test_crash_mid_way_and_redrive_send_exactly_one_message_each(twin, virtual_clock, monkeypatch):
    h.move_clock(virtual_clock, "2026-04-14T07:00:00Z")
    from polku.campaigns.sending import message_id

    tag = h.tag()
    ids = h.audience(tag, N)
    camp, seg = h.campaign(tag, send={"at": "2026-04-14T07:00:00Z"})
    fault = Fault(CRASH_AT)
    monkeypatch.setattr(send_module, "send_message", fault)
    sfn = twin.client("stepfunctions")

    arn = h.start(twin, camp, seg, started_at="2026-04-14T07:00:00Z")
    first = h.wait_done(twin, arn)
    assert first["status"] == "FAILED", first
    assert first["error"] == "States.ExceedToleratedFailureThreshold"
    run = distributed_map.map_run(arn, "SendWave")
    by_status = Counter(c.status for c in run.children)
    assert by_status["SUCCEEDED"] >= 1 and by_status["FAILED"] >= 1, by_status
    assert by_status["PENDING"] >= 1, by_status  # beyond the tolerance no further child started
    assert fault.kills > 1  # the batch's retries died too
    sent_before = h.per_customer(camp)
    assert 0 < len(sent_before) < N

    fault.armed = False
    sfn.redrive_execution(executionArn=arn)
    second = h.wait_done(twin, arn)
    assert second["status"] == "SUCCEEDED", second
    assert sfn.describe_execution(executionArn=arn)["status"] == "SUCCEEDED"
    assert run.redrive_count == 1 and all(c.status == "SUCCEEDED" for c in run.children)

    plan = json.loads(second["output"])["plan"]
    held = {m.customer_id for m in _holdout(camp)}
    recipients = set(ids) - held
    assert plan["audience"] == N and plan["recipients"] == len(recipients) and len(held) == plan["holdout"]
    assert 0.05 * N < len(held) < 0.15 * N  # holdout 10 %

    sent = h.per_customer(camp)
    assert set(sent) == recipients  # everyone but the holdout ...
    assert set(sent.values()) == {1}  # ... exactly once in the message log
    copies = ses_copies(twin)
    mids = {message_id(camp, "r1", cid) for cid in recipients}
    assert all(copies[mid] == 1 for mid in mids)  # and exactly one e-mail each at SES
    # New York was in quiet hours at 07:00 UTC: those e-mails went out at 08:00 local time.
    ny = [m for m in h.messages(camp) if m.customer_id in recipients and int(m.customer_id[-5:]) % 3 == 2]
    assert ny and all(m.sent_at >= "2026-04-14T12:00:00" for m in ny)
    variants = Counter(m.variant for m in h.messages(camp))
    assert set(variants) == {"A", "B"} and min(variants.values()) > 0.4 * len(recipients)


def test_redrive_is_refused_for_an_execution_that_did_not_fail(twin, virtual_clock):
    h.move_clock(virtual_clock, "2026-04-14T07:00:00Z")
    sfn = twin.client("stepfunctions")
    tag = h.tag()
    h.audience(tag, 3)
    camp, seg = h.campaign(tag, holdout=0)
    arn = h.start(twin, camp, seg)
    assert h.wait_done(twin, arn)["status"] == "SUCCEEDED"
    with pytest.raises(sfn.exceptions.ClientError) as err:
        sfn.redrive_execution(executionArn=arn)
    assert "ExecutionNotRedrivable" in str(err.value) and "SUCCEEDED" in str(err.value)


def _holdout(camp):
    from polku.data.journey_state import JourneyStateModel

    return [i for i in JourneyStateModel.scan(JourneyStateModel.journey == camp.journey) if i.status == "holdout"]
