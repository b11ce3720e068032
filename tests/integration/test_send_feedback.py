"""SES feedback through the twin (SNS topic -> Feedback function), other channels,
deferral, and the demo outbox."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from test_send_email import _invoke, _payload, _put_profile, _to

pytestmark = pytest.mark.twin


def _publish_ses_event(twin, event: dict) -> None:
    twin.client("sns").publish(TopicArn=twin.names["SesEventsTopic"], Message=json.dumps(event))


def _wait(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def sent(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr)
    result = _invoke(twin, _payload(cid))
    assert result["status"] == "sent"
    return cid, addr, result


def _ses_event(kind: str, message_id: str, provider_id: str, addr: str, **detail) -> dict:
    return {
        "eventType": kind,
        "mail": {"messageId": provider_id, "timestamp": "2026-01-05T08:00:01.000Z", "destination": [addr],
                 "tags": {"polku_message_id": [message_id]}},
        kind.lower(): {"timestamp": "2026-01-05T08:00:05.000Z", **detail},
    }


def test_permanent_bounce_suppresses_address_and_updates_log(twin, sent):
    cid, addr, result = sent
    from polku.data import messages
    from polku.messaging import suppression_list

    _publish_ses_event(twin, _ses_event("Bounce", result["message_id"], result["provider_id"], addr,
                                        bounceType="Permanent", bounceSubType="General",
                                        bouncedRecipients=[{"emailAddress": addr.upper()}]))
    assert _wait(lambda: suppression_list.is_suppressed(f"email:{addr}"))
    item = _wait(lambda: (m := messages.get(result["message_id"])) and m.status == "bounced" and m)
    assert item and "bounce_at" in item.feedback.as_dict()
    # the next message to that address is not sent
    again = _invoke(twin, _payload(cid, step="Later"))
    assert again["status"] == "skipped" and len(_to(twin, addr)) == 1


def test_transient_bounce_does_not_suppress(twin, sent):
    cid, addr, result = sent
    from polku.data import messages
    from polku.messaging import suppression_list

    _publish_ses_event(twin, _ses_event("Bounce", result["message_id"], result["provider_id"], addr,
                                        bounceType="Transient", bouncedRecipients=[{"emailAddress": addr}]))
    assert _wait(lambda: messages.get(result["message_id"]).status == "bounced")
    assert not suppression_list.is_suppressed(f"email:{addr}")


def test_complaint_suppresses_and_ses_open_becomes_tracking_event(twin, sent):
    cid, addr, result = sent
    from polku.messaging import suppression_list

    _publish_ses_event(twin, _ses_event("Open", result["message_id"], result["provider_id"], addr))
    _publish_ses_event(twin, _ses_event("Open", result["message_id"], result["provider_id"], addr))  # redelivered
    _publish_ses_event(twin, _ses_event("Complaint", result["message_id"], result["provider_id"], addr,
                                        complainedRecipients=[{"emailAddress": addr}]))
    assert _wait(lambda: suppression_list.is_suppressed(f"email:{addr}"))
    ddb = twin.client("dynamodb")

    def types():
        items = ddb.query(TableName=twin.names["EventsTable"], IndexName="by_subject",
                          KeyConditionExpression="subject = :s",
                          ExpressionAttributeValues={":s": {"S": f"c#{cid}"}})["Items"]
        return sorted(i["type"]["S"] for i in items)

    assert _wait(lambda: types() == ["email_open", "unsubscribe"]), types()


def test_garbage_sns_message_is_ignored(twin):
    """A malformed SES event is logged and dropped (a retry cannot fix it), never raised."""
    record = {"EventSource": "aws:sns", "Sns": {"Message": json.dumps({"hello": "world"})}}
    not_json = {"EventSource": "aws:sns", "Sns": {"Message": "{not json"}}
    answer = twin.client("lambda").invoke(FunctionName=twin.names["FeedbackFunction"],
                                          Payload=json.dumps({"Records": [record, not_json]}))
    assert "FunctionError" not in answer
    results = json.loads(answer["Payload"].read())["results"]
    assert len(results) == 2 and all(set(r) == {"ignored"} for r in results), results
    _publish_ses_event(twin, {"hello": "world"})  # through SNS as well: no error reaches the publisher


def test_sms_goes_through_sns_when_preferred(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    phone = f"+35840{uuid.uuid4().int % 10**7:07d}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org", consents={"email": True, "sms": True},
                 preferred_channel={"S": "sms"})
    ddb = twin.client("dynamodb")
    ddb.update_item(TableName=twin.names["ProfilesTable"], Key={"customer_id": {"S": cid}},
                    UpdateExpression="SET traits.phone = :p", ExpressionAttributeValues={":p": {"S": phone}})
    result = _invoke(twin, _payload(cid))
    assert result["status"] == "sent" and result["channel"] == "sms", result
    from moto.sns.models import sns_backends

    from polku.twin.twin import ACCOUNT_ID, REGION

    texts = [t for p, t in sns_backends[ACCOUNT_ID][REGION].sms_messages.values() if p == phone]
    assert len(texts) == 1 and texts[0].startswith("Polku Shop: tervetuloa") and "/v1/c/" in texts[0]


def test_quiet_hours_defer_with_a_timestamp(twin, virtual_clock):
    import datetime as dt

    virtual_clock.advance_to(dt.datetime(2026, 1, 5, 21, 30, tzinfo=dt.timezone.utc))  # 23:30 in Helsinki
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr)
    payload = _payload(cid)
    result = _invoke(twin, payload)
    assert result["status"] == "deferred" and result["send_at"] == "2026-01-06T06:00:00.000Z"
    assert _to(twin, addr) == []
    virtual_clock.advance_to(dt.datetime(2026, 1, 6, 6, 0, tzinfo=dt.timezone.utc))
    again = _invoke(twin, payload)  # the journey's Wait is over: the same step sends now
    assert again["status"] == "sent" and len(_to(twin, addr)) == 1


def test_send_time_action_returns_a_wait_timestamp(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org",
                 open_hours={"M": {"14": {"N": "30"}}})  # Monday 14 UTC
    out = _invoke(twin, {"action": "send_time", "customer_id": cid, "window_hours": 24})
    assert out["send_at"] == "2026-01-05T14:00:00.000Z" and out["reason"] == "best_hour"


def test_transactional_email_has_no_unsubscribe_header(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr, consents={})
    result = _invoke(twin, _payload(cid, template="order_confirmation", message_type="transactional",
                                    context={"order_id": "O-77", "order_items": [{"name": "Tea", "price": 2.5}],
                                             "total": 2.5}))
    assert result["status"] == "sent"
    [msg] = _to(twin, addr)
    assert msg["Subject"] == "Tilausvahvistus O-77" and "List-Unsubscribe" not in msg


def test_recommend_failure_still_sends_with_fallback_block(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr)
    payload = _payload(cid, recommend={"strategy": "for_customer", "count": 4})
    payload.pop("recommendations")
    result = _invoke(twin, payload)  # the recommend function is not built here / may fail: tolerated
    assert result["status"] == "sent"
    [msg] = _to(twin, addr)
    html = msg.get_body(("html",)).get_content()
    assert 'class="fallback"' in html or "product-name" in html


def test_outbox_writes_one_file_per_email_and_an_index(twin, sent, tmp_path):
    from polku.messaging.outbox import write_outbox

    cid, addr, _ = sent
    emails = write_outbox(twin, tmp_path / "outbox")
    mine = [e for e in emails if e.to == addr]
    assert len(mine) == 1
    page = (tmp_path / "outbox" / mine[0].file).read_text()
    assert twin.api_url + "/v1/o/" in page  # links rewritten to the local API
    index = (tmp_path / "outbox" / "index.html").read_text()
    assert mine[0].file in index and "Polku outbox" in index


def test_webhook_channel_puts_the_rendered_message_on_eventbridge(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org", consents={"webhook": True})
    ddb = twin.client("dynamodb")
    ddb.update_item(TableName=twin.names["ProfilesTable"], Key={"customer_id": {"S": cid}},
                    UpdateExpression="SET traits.webhook = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    result = _invoke(twin, _payload(cid, channel="webhook"))
    assert result["status"] == "sent" and result["channel"] == "webhook" and result["provider_id"], result
    assert _to(twin, f"{cid}@example.org") == []


def test_feedback_function_on_the_fixture_event(twin):
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "sns_ses_bounce_permanent.json"
    load_fixture = lambda name: json.loads(fixture.read_text(encoding="utf-8"))  # noqa: E731
    from polku.messaging import suppression_list

    out = twin.client("lambda").invoke(FunctionName=twin.names["FeedbackFunction"],
                                       Payload=json.dumps(load_fixture("sns_ses_bounce_permanent.json")).encode())
    body = json.loads(out["Payload"].read())
    assert not out.get("FunctionError"), body
    assert body["results"][0]["suppressed"] == ["email:gone@example.org"]
    assert "ignored" in body["results"][1]  # a malformed record is dropped, the rest is processed
    assert suppression_list.is_suppressed("email:gone@example.org")
