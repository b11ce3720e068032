"""A burst of bounces pauses marketing e-mail on the twin: SES events through SNS to the real
Feedback function, then the real Send defers marketing (transactional goes on) until
`polku sending resume` (issue #16 point 5)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from test_send_email import _invoke, _payload, _put_profile
from test_send_feedback import _publish_ses_event

from polku.cli.main import main
from polku.messaging import sending_pause

pytestmark = pytest.mark.twin
NOON = dt.datetime(2031, 3, 3, 10, 0, tzinfo=dt.timezone.utc)  # a fresh hour window, daytime in Helsinki


def _event(kind: str, n: int, **detail) -> dict:
    addr = f"reader-{n}@example.org"
    return {"eventType": kind, "mail": {"messageId": f"ses-{uuid.uuid4().hex}", "timestamp": "2031-03-03T09:59:00.000Z",
                                        "destination": [addr]},
            kind.lower(): {"timestamp": "2031-03-03T10:00:00.000Z", **detail}}


def _bounce(n: int) -> dict:
    return _event("Bounce", n, bounceType="Permanent", bounceSubType="General",
                  bouncedRecipients=[{"emailAddress": f"reader-{n}@example.org"}])


def test_a_bounce_burst_pauses_marketing_until_resumed(twin, virtual_clock, api, capsys):
    virtual_clock.advance_to(NOON)
    try:
        for n in range(100):
            _publish_ses_event(twin, _event("Delivery", n))
        for n in range(4):  # 4 of 104 = 3.8 %: under the 5 % limit
            _publish_ses_event(twin, _bounce(n))
        assert sending_pause.paused_reason(fresh=True) is None
        transient = _event("Bounce", 99, bounceType="Transient", bounceSubType="General")
        _publish_ses_event(twin, transient)  # soft bounces do not count
        assert sending_pause.rates()["bounces"] == 4
        for n in range(4, 6):  # 6 of 106 = 5.7 %
            _publish_ses_event(twin, _bounce(n))
        reason = sending_pause.paused_reason(fresh=True)
        assert reason and "bounce rate 5.7%" in reason, reason
        _publish_ses_event(twin, _bounce(6))  # a later bounce keeps the pause as it was set
        assert sending_pause.paused_reason(fresh=True) == reason

        cid = f"c-{uuid.uuid4().hex[:12]}"
        _put_profile(twin, cid, email_addr=f"{cid}@example.org")
        deferred = _invoke(twin, _payload(cid, step="SendOffer"))
        assert deferred["status"] == "deferred" and "paused" in deferred["reason"], deferred
        assert deferred["send_at"] == "2031-03-03T11:00:00.000Z"  # the journey waits and sends it after the resume
        receipt = _invoke(twin, _payload(cid, step="SendReceipt", message_type="transactional"))
        assert receipt["status"] == "sent", receipt

        assert main(["--endpoint", api, "sending", "status"]) == 0
        status = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert status["paused"] and status["emails"] == 107 and status["bounces"] == 7
        assert main(["--endpoint", api, "sending", "resume"]) == 0
        assert capsys.readouterr().out.strip().splitlines()[-1].startswith("resumed")
        again = _invoke(twin, _payload(cid, step="SendOffer", execution_id=None))
        assert again["status"] == "sent", again
    finally:
        sending_pause.resume()  # never leave the shared twin paused for other tests
