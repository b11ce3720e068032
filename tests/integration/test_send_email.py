"""End to end on the twin: the Send function (a real handler invoked through the twin's
Lambda) renders and sends an e-mail that lands in moto's SES; its pixel, click and
unsubscribe links work through the twin's HTTP API and reach the events table."""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

pytestmark = pytest.mark.twin

PRODUCTS = [
    {"product_id": "p-rye", "name": "Rye bread <organic>", "price": 3.5, "image_url": "https://img.example.com/rye.png",
     "url": "https://shop.example.com/p/rye", "category": "bakery"},
    {"product_id": "p-coffee", "name": "Dark roast coffee", "price": 7.9, "image_url": "https://img.example.com/c.png",
     "url": "https://shop.example.com/p/coffee", "category": "drinks"},
]


def _sent_messages(twin):
    from moto.ses.models import ses_backends

    from polku.twin.twin import ACCOUNT_ID, REGION

    return ses_backends[ACCOUNT_ID][REGION].sent_messages


def _to(twin, address):
    out = []
    for m in _sent_messages(twin):
        raw = getattr(m, "raw_data", None)
        if raw and address in raw:
            out.append(email.message_from_string(raw, policy=email.policy.default))
    return out


def _put_profile(twin, customer_id, *, email_addr, first_name="<b>Ann</b>", consents=None, **extra):
    item = {
        "customer_id": {"S": customer_id},
        "traits": {"M": {"email": {"S": email_addr}, "first_name": {"S": first_name}}},
        "consents": {"M": {ch: {"M": {"granted": {"BOOL": g}}} for ch, g in (consents or {"email": True}).items()}},
        "locale": {"S": "fi"},
        "time_zone": {"S": "Europe/Helsinki"},
        "version": {"N": "1"},  # the profile builder updates it optimistically
    }
    item.update(extra)
    twin.client("dynamodb").put_item(TableName=twin.names["ProfilesTable"], Item=item)


def _invoke(twin, payload):
    out = twin.client("lambda").invoke(FunctionName=twin.names["SendFunction"], Payload=json.dumps(payload).encode())
    body = json.loads(out["Payload"].read())
    assert not out.get("FunctionError"), body
    return body


def _payload(customer_id, execution_id=None, **kw):
    return {
        "customer_id": customer_id,
        "journey": "welcome",
        "step": "SendWelcome",
        "template": "welcome",
        "message_type": "offer",
        "variant": "A",
        "execution_id": execution_id or f"arn:aws:states:eu-west-1:123456789012:execution:polku-local-welcome:{uuid.uuid4()}",
        "context": {},
        "recommendations": PRODUCTS,
        **kw,
    }


def _local(twin, url):
    """A link from the e-mail, pointed at the twin's HTTP API (links carry the deployed base URL)."""
    path = urlsplit(url).path
    path = path[path.index("/v1/"):]
    return twin.api_url + path


def _events_of(twin, customer_id):
    ddb = twin.client("dynamodb")
    items = ddb.query(
        TableName=twin.names["EventsTable"], IndexName="by_subject",
        KeyConditionExpression="subject = :s", ExpressionAttributeValues={":s": {"S": f"c#{customer_id}"}},
    )["Items"]
    return [i["type"]["S"] for i in items]


@pytest.fixture
def customer(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr)
    return cid, addr


def test_send_step_delivers_personal_email_with_unsubscribe_headers(twin, customer):
    cid, addr = customer
    result = _invoke(twin, _payload(cid))
    assert result["status"] == "sent" and result["channel"] == "email", result

    [msg] = _to(twin, addr)
    assert msg["To"] == addr
    assert msg["Subject"] == "Tervetuloa Polku Shop-asiakkaaksi, <b>Ann</b>!"  # fi, the profile's locale
    assert msg["List-Unsubscribe"].startswith("<https://") and "/v1/unsubscribe/" in msg["List-Unsubscribe"]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # as delivered: the URL itself on the header line (mail providers do not decode RFC 2047 words there)
    [raw] = [m.raw_data for m in _sent_messages(twin) if addr in (getattr(m, "raw_data", None) or "")]
    assert re.search(r"^List-Unsubscribe: <https://[!-~]+/v1/unsubscribe/[!-~]+>\r?$", raw, re.M), raw[:600]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    assert "Rye bread &lt;organic&gt;" in html and "Dark roast coffee" in html  # personal products, escaped
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann</b>" not in html
    assert "Rye bread <organic>" in text

    # the message log has it, queryable per customer
    from polku.data import messages

    [logged] = messages.of_customer(cid)
    assert logged.status == "sent" and logged.channel == "email" and logged.template == "welcome"
    assert logged.locale == "fi" and logged.provider == "ses" and logged.provider_id == result["provider_id"]


def test_retried_send_step_sends_one_message(twin, customer):
    cid, addr = customer
    payload = _payload(cid)
    first = _invoke(twin, payload)
    second = _invoke(twin, payload)
    assert first["status"] == "sent"
    assert second["status"] == "sent" and second.get("replayed") is True
    assert second["message_id"] == first["message_id"]
    assert len(_to(twin, addr)) == 1


def test_suppressed_customer_gets_nothing(twin, customer):
    cid, addr = customer
    from polku.messaging import suppression_list

    suppression_list.suppress(f"email:{addr}", "bounce")
    result = _invoke(twin, _payload(cid))
    assert result["status"] == "skipped" and "suppression" in result["reason"]
    assert _to(twin, addr) == []


def test_customer_without_consent_gets_nothing(twin, virtual_clock):
    cid = f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{cid}@example.org"
    _put_profile(twin, cid, email_addr=addr, consents={"email": False})
    result = _invoke(twin, _payload(cid))
    assert result["status"] == "skipped"
    assert _to(twin, addr) == []


def test_bad_input_names_the_field(twin):
    out = twin.client("lambda").invoke(
        FunctionName=twin.names["SendFunction"], Payload=json.dumps({"customer_id": "x", "journey": "welcome"}).encode()
    )
    body = json.loads(out["Payload"].read())
    assert out.get("FunctionError") and body["errorType"] == "SendInputError" and "step" in body["errorMessage"]


def test_pixel_click_and_unsubscribe_reach_the_events_table(twin, customer):
    cid, addr = customer
    _invoke(twin, _payload(cid))
    [msg] = _to(twin, addr)
    html = msg.get_body(("html",)).get_content()
    pixel = re.search(r'<img src="([^"]+/v1/o/[^"]+)"', html).group(1)
    click = re.search(r'<a href="([^"]+/v1/c/[^"]+)"', html).group(1)

    r = requests.get(_local(twin, pixel), timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/gif"
    r = requests.get(_local(twin, click.replace("&amp;", "&")), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"].startswith("https://shop.example.com/")

    # a tampered token neither redirects nor records
    bad = _local(twin, click)[:-3] + ("AAA" if not click.endswith("AAA") else "BBB")
    r = requests.get(bad, allow_redirects=False, timeout=10)
    assert r.status_code == 404 and "Location" not in r.headers

    unsub = msg["List-Unsubscribe"].strip("<>")
    page = requests.get(_local(twin, unsub), timeout=10)
    assert page.status_code == 200 and "<form method='post'" in page.text
    r = requests.post(_local(twin, unsub), data="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert r.status_code == 200

    types = _events_of(twin, cid)
    assert {"email_open", "email_click", "unsubscribe"} <= set(types), types

    from polku.data import messages

    [logged] = messages.of_customer(cid)
    assert "open_at" in logged.feedback.as_dict() and "click_at" in logged.feedback.as_dict()

    # unsubscribed: the next message of any journey is not sent
    again = _invoke(twin, _payload(cid, step="SendReminder"))
    # (skipped for the suppression; with the tracking issue's profile builder the
    # unsubscribe event also withdraws the e-mail consent on the profile)
    assert again["status"] == "skipped", again
    assert len(_to(twin, addr)) == 1

    # the profile learns from the events (profile updater on the events stream)
    deadline = time.monotonic() + 15
    counts = {}
    while time.monotonic() < deadline:
        item = twin.client("dynamodb").get_item(TableName=twin.names["ProfilesTable"], Key={"customer_id": {"S": cid}})["Item"]
        counts = {k: v.get("N") for k, v in item.get("counts", {}).get("M", {}).items()}
        if counts.get("email_open") and counts.get("email_click"):
            break
        time.sleep(0.2)
    assert counts.get("email_open") and counts.get("email_click"), counts
