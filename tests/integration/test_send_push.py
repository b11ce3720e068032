"""End to end on the twin: mobile push. A customer whose profile has an SNS platform
endpoint and push consent, and prefers push, gets the send step's message as a push
notification published to that endpoint (moto's SNS keeps what was published), logged
in the messages table; a retried step does not push twice; without consent nothing is
pushed."""

from __future__ import annotations

import json
import uuid

import pytest

pytestmark = pytest.mark.twin


def _endpoint(twin) -> str:
    """A GCM platform application and one device endpoint in the twin's SNS."""
    sns = twin.client("sns")
    app = sns.create_platform_application(Name=f"polku-test-{uuid.uuid4().hex[:8]}", Platform="GCM",
                                          Attributes={"PlatformCredential": "test-server-key"})
    return sns.create_platform_endpoint(PlatformApplicationArn=app["PlatformApplicationArn"],
                                        Token=f"device-{uuid.uuid4().hex}")["EndpointArn"]


def _pushed(endpoint_arn: str) -> list[dict]:
    from moto.sns.models import sns_backends

    from polku.twin.twin import ACCOUNT_ID, REGION

    endpoint = sns_backends[ACCOUNT_ID][REGION].platform_endpoints[endpoint_arn]
    return [json.loads(m) for m in endpoint.messages.values()]


def _put_profile(twin, customer_id, *, endpoint_arn, push_consent=True, locale="fi"):
    twin.client("dynamodb").put_item(TableName=twin.names["ProfilesTable"], Item={
        "customer_id": {"S": customer_id},
        "traits": {"M": {"email": {"S": f"{customer_id}@example.org"}, "first_name": {"S": "Aino"},
                         "push_endpoint": {"S": endpoint_arn}}},
        "consents": {"M": {"email": {"M": {"granted": {"BOOL": True}}},
                           "push": {"M": {"granted": {"BOOL": push_consent}}}}},
        "preferred_channel": {"S": "push"},
        "locale": {"S": locale},
        "time_zone": {"S": "Europe/Helsinki"},
        "version": {"N": "1"},
    })


def _invoke(twin, payload):
    out = twin.client("lambda").invoke(FunctionName=twin.names["SendFunction"], Payload=json.dumps(payload).encode())
    body = json.loads(out["Payload"].read())
    assert not out.get("FunctionError"), body
    return body


def _payload(customer_id, **kw):
    return {
        "customer_id": customer_id,
        "journey": "abandoned_cart",
        "step": "SendReminder",
        "template": "abandoned_cart",
        "message_type": "reminder",
        "execution_id": f"arn:aws:states:eu-west-1:123456789012:execution:polku-local-abandoned_cart:{uuid.uuid4()}",
        "context": {"cart_url": "https://shop.example.com/cart"},
        **kw,
    }


def test_send_step_pushes_to_the_customers_platform_endpoint(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    endpoint = _endpoint(twin)
    _put_profile(twin, cid, endpoint_arn=endpoint)
    payload = _payload(cid)

    result = _invoke(twin, payload)
    assert result["status"] == "sent" and result["channel"] == "push", result

    [pushed] = _pushed(endpoint)
    assert pushed["default"] == "Valitsemasi tuotteet ovat yhä korissa."  # fi, the profile's locale
    gcm, apns = json.loads(pushed["GCM"]), json.loads(pushed["APNS"])
    assert gcm["notification"] == {"title": "Ostoskorisi odottaa", "body": "Valitsemasi tuotteet ovat yhä korissa."}
    assert gcm["data"]["message_id"] == result["message_id"] == apns["message_id"]
    assert apns["aps"]["alert"]["title"] == "Ostoskorisi odottaa"

    from polku.data import messages

    [logged] = messages.of_customer(cid)
    assert logged.status == "sent" and logged.channel == "push" and logged.template == "abandoned_cart"
    assert logged.provider == "sns" and logged.provider_id == result["provider_id"]
    assert logged.address == f"push:{endpoint}"  # the suppression key of this channel

    again = _invoke(twin, payload)  # the journey retries the step: replayed, not pushed again
    assert again.get("replayed") is True and again["message_id"] == result["message_id"]
    assert len(_pushed(endpoint)) == 1


def test_no_push_without_push_consent(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    endpoint = _endpoint(twin)
    _put_profile(twin, cid, endpoint_arn=endpoint, push_consent=False)
    result = _invoke(twin, _payload(cid, channel="push"))
    assert result["channel"] != "push", result  # push asked for, but not allowed: another channel or none
    assert _pushed(endpoint) == []
