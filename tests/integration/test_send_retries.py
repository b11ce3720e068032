"""Transient and permanent delivery errors, with a fake provider at the edge (the message
log, suppression list and profile are the twin's real tables)."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError

from polku.messaging.delivery import Delivered, DeliveryError, TransientDeliveryError, from_client_error
from polku.messaging.send_message import SendInput, send_message

from test_send_email import PRODUCTS, _payload, _put_profile

pytestmark = pytest.mark.twin


class FlakySes:
    def __init__(self, errors):
        self.errors = list(errors)
        self.sent = []

    def send(self, **kw):
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(kw)
        return Delivered("ses", f"ses-{len(self.sent)}")


def _deps(email):
    from polku.messaging.wiring import send_deps

    deps = send_deps()
    deps.email = email
    return deps


@pytest.fixture
def customer(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org")
    return cid


def test_transient_error_is_raised_for_retry_and_the_retry_sends_once(customer):
    ses = FlakySes([DeliveryError("SES: Throttling", transient=True, code="Throttling")])
    inp = SendInput.parse(_payload(customer, recommendations=PRODUCTS))
    with pytest.raises(TransientDeliveryError):
        send_message(inp, _deps(ses))
    from polku.data import messages
    from polku.messaging import message_log

    mid = message_log.message_id_for(inp.execution_id, inp.step)
    assert messages.get(mid).status == "retry"
    out = send_message(inp, _deps(ses))  # Step Functions' Retry
    again = send_message(inp, _deps(ses))  # and one more, after success
    assert out["status"] == "sent" and again.get("replayed") and len(ses.sent) == 1
    assert messages.get(mid).attempts == 2


def test_permanent_error_is_recorded_not_retried(customer):
    ses = FlakySes([DeliveryError("SES: MessageRejected", transient=False, code="MessageRejected")])
    inp = SendInput.parse(_payload(customer))
    out = send_message(inp, _deps(ses))
    assert out["status"] == "failed" and "MessageRejected" in out["reason"]
    again = send_message(inp, _deps(ses))
    assert again["status"] == "failed" and again.get("replayed") and ses.sent == []


def test_botocore_errors_map_to_transient_or_permanent():
    def err(code, status):
        return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "SendEmail")

    assert from_client_error(err("TooManyRequestsException", 429), "x").transient
    assert from_client_error(err("InternalFailure", 500), "x").transient
    assert not from_client_error(err("MessageRejected", 400), "x").transient
    assert not from_client_error(err("MailFromDomainNotVerifiedException", 400), "x").transient
