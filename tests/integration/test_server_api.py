"""The server API (#16 point 2) on the twin: the shop's backend sends purchases, traits and
consents with its secret server key; the public routes can no longer change consents."""

from __future__ import annotations


import pytest
import requests

from polku import clock
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import profile_store, trust_secrets

from waiting import uid, wait_for  # tests/integration/waiting.py

pytestmark = pytest.mark.twin
SITE = "demo-shop"


def server_post(api, path, body, key="__site__", **headers):
    if key == "__site__":
        key = trust_secrets.server_key_for(SITE)
    if key is not None:
        headers["X-Polku-Server-Key"] = key
    return requests.post(f"{api}/v1/server/{path}", json={"site_key": SITE, **body}, headers=headers, timeout=30)


def purchase(cust, order):
    return {"event_id": f"order-{order}", "type": "purchase", "customer_id": cust, "ts": "2026-01-05T08:00:00Z",
            "properties": {"order_id": order, "revenue": 12.5, "items": [{"product_id": "sku-1", "quantity": 1, "price": 12.5}]}}


@pytest.mark.parametrize("key, status, reason", [
    (None, 401, "is required"),
    ("", 401, "is required"),
    ("demo-shop", 403, "not this site's server key"),  # the public site key is not a server key
    ("0" * 64, 403, "not this site's server key"),
])
def test_the_server_api_needs_the_sites_server_key(api, key, status, reason):
    cust, order = uid("c"), uid("o")
    r = server_post(api, "events", {"events": [purchase(cust, order)]}, key=key)
    assert r.status_code == status, r.text
    assert r.json()["error"]["field"] == "X-Polku-Server-Key" and reason in r.json()["error"]["reason"]
    assert event_table.get(f"order-{order}") is None
    r = server_post(api, "identify", {"customer_id": cust, "traits": {"email": "x@evil.com"}}, key=key)
    assert r.status_code == status and profile_store.load(cust) is None


def test_another_sites_server_key_is_refused(api):
    r = server_post(api, "events", {"events": [purchase(uid("c"), uid("o"))]},
                    key=trust_secrets.server_key_for("other-shop"))
    assert r.status_code == 403 and r.json()["error"]["field"] == "X-Polku-Server-Key"


def test_purchases_traits_and_consents_from_the_shops_backend(api):
    cust, order = uid("c"), uid("o")
    r = server_post(api, "events", {"events": [purchase(cust, order)]})
    assert r.status_code == 200 and r.json()["accepted"] == [f"order-{order}"], r.text
    assert event_table.get(f"order-{order}")["site_key"] == SITE
    r = server_post(api, "identify", {"customer_id": cust, "traits": {
        "email": "buyer@example.com", "phone": "+358401234567", "consents": {"email": True, "sms": True}}})
    assert r.status_code == 200, r.text
    stored = event_table.get(r.json()["event_id"])
    assert stored["properties"]["evidence"]["source"] == "server" and stored["properties"]["evidence"]["trust"] == "server"
    profile = wait_for(lambda: profile_store.load(cust))
    assert profile["orders"] == 1 and profile["traits"]["email"] == "buyer@example.com"
    assert profile["consents"]["email"]["granted"] is True and profile["consents"]["sms"]["granted"] is True
    # the backend may record a withdrawal (an unsubscribe from its own account page)
    r = server_post(api, "events", {"events": [{"event_id": uid("u"), "type": "unsubscribe", "customer_id": cust,
                                                "ts": clock.now_iso(), "properties": {"channel": "sms"}}]})
    assert r.status_code == 200, r.text
    assert wait_for(lambda: profile_store.load(cust)["consents"]["sms"]["granted"] is False)


def test_the_server_can_link_a_browser_it_signed_in(api):
    cust, anon = uid("c"), uid("a")
    r = server_post(api, "identify", {"customer_id": cust, "anonymous_id": anon})
    assert r.status_code == 200 and r.json()["linked"] is True
    assert identities.customer_of(anon) == cust


def test_the_public_events_route_cannot_change_consents(api):
    cust = uid("c")
    assert server_post(api, "identify", {"customer_id": cust, "traits": {"consents": {"email": True}}}).status_code == 200
    wait_for(lambda: profile_store.load(cust))
    event = {"event_id": uid("u"), "type": "unsubscribe", "customer_id": cust, "ts": "2026-01-06T08:00:00Z",
             "properties": {"channel": "email"}}
    r = requests.post(f"{api}/v1/events", json={"site_key": SITE, "events": [event]}, timeout=30)
    assert r.status_code == 400
    [rejected] = r.json()["rejected"]
    assert rejected["field"] == "type" and "server API" in rejected["reason"]
    assert event_table.get(event["event_id"]) is None
    assert profile_store.load(cust)["consents"]["email"]["granted"] is True


def test_a_browser_cannot_call_the_server_api_with_the_site_key_alone(api):
    r = requests.post(f"{api}/v1/server/events", json={"site_key": SITE, "events": [purchase(uid("c"), uid("o"))]},
                      headers={"Origin": "http://localhost:8080"}, timeout=30)
    assert r.status_code == 401 and "Access-Control-Allow-Origin" not in r.headers
    assert requests.options(f"{api}/v1/server/events", headers={"Origin": "http://localhost:8080"},
                            timeout=30).status_code in (403, 404, 405)  # no preflight: browsers cannot send the header


def test_bad_bodies_are_named(api):
    r = server_post(api, "events", {"events": "nope"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "events"
    r = server_post(api, "identify", {"customer_id": "anon:x"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "customer_id"
    r = requests.post(f"{api}/v1/server/events", data=b"{", timeout=30,
                      headers={"Content-Type": "application/json", "X-Polku-Server-Key": trust_secrets.server_key_for(SITE)})
    assert r.status_code == 400 and r.json()["error"]["field"] == "body"
