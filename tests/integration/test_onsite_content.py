"""On-site content on the twin (issue #19): the real Send function puts a reminder's web card in the
customer's web inbox beside the e-mail; POST /v1/content hands it to the customer's own pages only
(verified identity), marks it delivered and records the impression; its signed link records the
click; every AWS call is one the functions' policies in template.yaml allow."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from polku.twin import iam_agreement

from test_send_email import _local, _put_profile
from test_template_validation import translate

pytestmark = pytest.mark.twin
SITE = "demo-shop"
CART = "https://shop.example.com/cart"


def _send(twin, customer_id, **kw):
    payload = {"customer_id": customer_id, "journey": "abandoned_cart", "step": "SendReminder", "template": "abandoned_cart",
               "message_type": "reminder", "variant": "A", "context": {"stage": "reminder", "cart_url": CART},
               "execution_id": f"arn:aws:states:eu-west-1:123456789012:execution:polku-local-abandoned_cart:{uuid.uuid4()}",
               "recommendations": [{"product_id": "p-rye", "name": "Rye", "price": 3.5, "url": "https://shop.example.com/p/rye",
                                    "image_url": "https://img.example.com/rye.png"}], **kw}
    out = twin.client("lambda").invoke(FunctionName=twin.names["SendFunction"], Payload=json.dumps(payload).encode())
    body = json.loads(out["Payload"].read())
    assert not out.get("FunctionError"), body
    return body


def _content(api, body, **headers):
    r = requests.post(f"{api}/v1/content?site_key={SITE}", data=json.dumps({"site_key": SITE, **body}),
                      headers={"Content-Type": "text/plain", **headers}, timeout=30)
    return r.status_code, r.json()


def _events(twin, subject):
    items = twin.client("dynamodb").query(
        TableName=twin.names["EventsTable"], IndexName="by_subject", KeyConditionExpression="subject = :s",
        ExpressionAttributeValues={":s": {"S": subject}})["Items"]
    return [(i["type"]["S"], {k: v.get("S") for k, v in i.get("properties", {}).get("M", {}).items()}) for i in items]


@pytest.fixture(scope="module")
def placed(twin, api, virtual_clock_module):
    """A customer with a linked browser and e-mail consent gets the abandoned-cart reminder."""
    cid, anon = f"c-{uuid.uuid4().hex[:12]}", f"a-{uuid.uuid4().hex[:12]}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org", anonymous_ids={"L": [{"S": anon}]}, locale={"S": "en"})
    with iam_agreement.recording() as rec:
        with virtual_clock_module.actor():
            result = _send(twin, cid)
        yield {"cid": cid, "anon": anon, "result": result, "rec": rec}


@pytest.fixture(scope="module")
def virtual_clock_module():
    import datetime as dt

    from polku import clock

    vc = clock.VirtualClock(dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone.utc))
    previous = clock.set_clock(vc)
    yield vc
    clock.set_clock(previous)


def test_the_reminder_puts_its_web_card_in_the_inbox_beside_the_email(placed):
    from polku.data import messages
    from polku.messaging import message_log

    result = placed["result"]
    assert result["status"] == "sent" and result["channel"] == "email", result
    assert result["web"]["status"] == "sent", result
    logged = {m.channel: m for m in messages.of_customer(placed["cid"])}
    assert set(logged) == {"email", "web"}
    card = logged["web"]
    assert card.step == "SendReminder/web" and card.provider == "web" and card.expires_at > card.sent_at
    assert card.card["title"] == "Your cart is waiting" and "still in your cart" in card.card["text"]
    assert card.card["url"].startswith("http") and "/v1/c/" in card.card["url"]
    assert card.card["image_url"] == "https://img.example.com/rye.png"
    # the card counts for no frequency cap
    import datetime as dt

    from polku import clock

    assert len(message_log.recent_sends(placed["cid"], clock.now() - dt.timedelta(days=1))) == 1


def test_a_retried_step_places_the_card_once(twin, placed):
    from polku.data import messages

    cid = f"c-{uuid.uuid4().hex[:12]}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org", anonymous_ids={"L": [{"S": "a-x"}]})
    execution = f"arn:aws:states:eu-west-1:123456789012:execution:polku-local-abandoned_cart:{uuid.uuid4()}"
    first, again = _send(twin, cid, execution_id=execution), _send(twin, cid, execution_id=execution)
    assert again["replayed"] and again["web"]["message_id"] == first["web"]["message_id"]
    assert sorted(m.channel for m in messages.of_customer(cid)) == ["email", "web"]


def test_only_the_verified_customer_sees_the_card_and_seeing_it_delivers_it(twin, api, placed):
    from polku.data import messages
    from polku.tracking.trust_secrets import mint_for

    cid, anon = placed["cid"], placed["anon"]
    slots = [{"name": "cart-offer"}]
    # the browser linked to the customer, without proof: its own (empty) inbox, nothing of the customer's
    status, body = _content(api, {"anonymous_id": anon, "slots": slots})
    assert status == 200 and body == {"slots": {"cart-offer": {"cards": []}}, "personal": False}
    # a customer id without its token, or with a forged one: refused, naming the field
    status, body = _content(api, {"anonymous_id": anon, "customer_id": cid, "slots": slots})
    assert status == 403 and body["error"]["field"] == "identity_token"
    status, body = _content(api, {"customer_id": cid, "identity_token": "9999999999." + "0" * 64, "slots": slots})
    assert status == 403 and body["error"]["field"] == "identity_token"
    token = mint_for(SITE, cid)
    other = f"c-{uuid.uuid4().hex[:12]}"
    status, body = _content(api, {"customer_id": other, "identity_token": token, "slots": slots})
    assert status == 403  # the token is for another customer
    with iam_agreement.recording() as rec:
        status, body = _content(api, {"anonymous_id": anon, "customer_id": cid, "identity_token": token, "slots": [
            *slots, {"name": "product-page-also-bought", "product_id": f"p-{uuid.uuid4().hex[:8]}"}]})
    placed["rec_content"] = rec
    assert status == 200 and body["personal"] is True
    [card] = body["slots"]["cart-offer"]["cards"]
    web = next(m for m in messages.of_customer(cid) if m.channel == "web")
    assert card["message_id"] == web.message_id and card["title"] == "Your cart is waiting"
    web.refresh()
    assert web.status == "delivered" and "delivery_at" in web.feedback.as_dict()
    assert ("content_impression", {"message_id": web.message_id, "channel": "web", "source": "polku.messages",
                                   "slot": "cart-offer", "journey": "abandoned_cart"}) in _events(twin, f"c#{cid}")
    placed["card"] = card


def test_a_click_on_the_card_is_tracked_and_the_card_is_not_shown_again(twin, api, placed):
    from polku.data import messages
    from polku.tracking.trust_secrets import mint_for

    card = placed.get("card") or pytest.fail("needs the card shown above")
    with iam_agreement.recording() as rec:
        r = requests.get(_local(twin, card["url"]), allow_redirects=False, timeout=30)
    placed["rec_click"] = rec
    assert r.status_code == 302 and r.headers["Location"] == CART
    types = [t for t, p in _events(twin, f"c#{placed['cid']}") if p.get("slot") == "inbox"]
    assert types == ["content_click"]
    web = messages.get(card["message_id"])
    assert "click_at" in web.feedback.as_dict()
    status, body = _content(api, {"customer_id": placed["cid"], "identity_token": mint_for(SITE, placed["cid"]),
                                  "slots": [{"name": "inbox"}]})
    assert status == 200 and body["slots"]["inbox"]["cards"] == []


def test_a_journeys_card_is_withdrawn_when_its_run_has_ended(twin, api, placed):
    from polku.data.journey_state import JourneyStateModel
    from polku.tracking.trust_secrets import mint_for

    cid = f"c-{uuid.uuid4().hex[:12]}"
    _put_profile(twin, cid, email_addr=f"{cid}@example.org", anonymous_ids={"L": [{"S": "a-y"}]})
    execution = f"arn:aws:states:eu-west-1:123456789012:execution:polku-local-abandoned_cart:{uuid.uuid4()}"
    assert _send(twin, cid, execution_id=execution)["web"]["status"] == "sent"
    ask = {"customer_id": cid, "identity_token": mint_for(SITE, cid), "slots": [{"name": "inbox"}]}
    run = JourneyStateModel(cid, "run#abandoned_cart", journey="abandoned_cart", status="running",
                            execution_name=execution.rsplit(":", 1)[1], execution_arn=execution)
    run.save()
    assert len(_content(api, ask)[1]["slots"]["inbox"]["cards"]) == 1  # still running: shown
    run.update(actions=[JourneyStateModel.status.set("exited"), JourneyStateModel.exit_reason.set("goal")])
    assert _content(api, ask)[1]["slots"]["inbox"]["cards"] == []  # the cart was bought: withdrawn


def test_a_product_click_of_an_anonymous_visitor_is_its_own_event(twin, api):
    from polku.messaging.wiring import link_signer

    anon = f"a-{uuid.uuid4().hex[:12]}"
    url = link_signer().click_url("https://shop.example.com/p/rye", "slot:product-page-also-bought", f"anon:{anon}",
                                  channel="web")
    r = requests.get(_local(twin, url), allow_redirects=False, timeout=30)
    assert r.status_code == 302
    [(kind, props)] = _events(twin, f"a#{anon}")
    assert kind == "content_click" and props["slot"] == "product-page-also-bought"


def test_a_browser_may_not_post_content_events(api):
    r = requests.post(f"{api}/v1/events", json={"site_key": SITE, "events": [
        {"event_id": f"e-{uuid.uuid4().hex}", "type": "content_click", "anonymous_id": "a-1", "ts": "2026-01-05T10:00:00Z",
         "properties": {"slot": "inbox", "url": "https://shop.example.com/"}}]}, timeout=30)
    assert r.status_code == 400 and r.json()["rejected"][0]["field"] == "type"


def test_the_content_route_is_rate_limited_and_cors_checked(api):
    status, body = _content(api, {"slots": [{"name": "inbox"}]}, Origin="https://evil.example")
    assert status == 403 and body["error"]["field"] == "Origin"
    from polku.twin.template import Template
    from tests.conftest import TEMPLATE

    waf = Template.load(TEMPLATE).resources["PublicApiWebAcl"]["Properties"]["Rules"]
    for rule in waf:
        paths = [s["ByteMatchStatement"]["SearchString"]
                 for s in rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["OrStatement"]["Statements"]]
        assert "/v1/content" in paths, rule["Name"]


def test_every_call_is_allowed_by_the_functions_policies(twin, template, placed):
    grants = iam_agreement.function_grants(translate(template), twin.resolver)
    for name in ("rec", "rec_content", "rec_click"):
        rec = placed.get(name) or pytest.fail(f"needs the {name} recording above")
        result = iam_agreement.check(rec, grants)
        assert not result.missing, result.missing
    track = {a for (fn, a, r) in _calls(placed["rec_content"]) if fn == "TrackApiFunction"}
    assert {"dynamodb:Query", "dynamodb:GetItem", "lambda:InvokeFunction", "dynamodb:UpdateItem",
            "dynamodb:PutItem"} <= track, track
    assert any(r.endswith("-journey-state") for (fn, a, r) in _calls(placed["rec_content"]) if a == "dynamodb:GetItem"), \
        _calls(placed["rec_content"])


def _calls(rec):
    return [(c.function, c.action, c.resource) for c in rec.calls]
