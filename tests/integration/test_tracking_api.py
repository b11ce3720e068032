"""The tracking API on the local twin: real handlers, real stream -> profile updater."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from polku.data import events as event_table
from polku.tracking import privacy, profile_store  # noqa: F401 - import models first
from polku.tracking.trust_secrets import mint_for  # identify needs a token from the shop's backend (#16)

from waiting import uid  # tests/integration/waiting.py

pytestmark = pytest.mark.twin
ORIGIN = "http://localhost:8080"  # in the template's default AllowedOrigins
SITE_KEY = "demo-shop"  # the template's default SiteKeys


def ev(etype, who, ts="2026-01-05T08:00:00Z", **props):
    base = {"event_id": uid("e"), "type": etype, "ts": ts, "properties": props}
    base.update(who)
    return base


def post(api, events, **headers):
    return requests.post(f"{api}/v1/events", data=json.dumps({"site_key": SITE_KEY, "events": events}),
                         headers={"Content-Type": "text/plain", **headers}, timeout=30)


def identify(api, anon, customer, event_id=None, **traits):
    body = {"site_key": SITE_KEY, "anonymous_id": anon, "customer_id": customer, "traits": traits,
            "identity_token": mint_for(SITE_KEY, customer)}
    if event_id:
        body["event_id"] = event_id
    return requests.post(f"{api}/v1/identify", json=body, timeout=30)


def test_partial_batch_accepted_and_rejections_named(api):
    anon = uid("a")
    good = ev("product_view", {"anonymous_id": anon}, product_id="p1")
    bad = ev("purchase", {"anonymous_id": anon}, order_id="o1", revenue=5, items=[])
    r = post(api, [good, bad], Origin=ORIGIN)
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == [good["event_id"]]
    assert body["rejected"] == [{"index": 1, "event_id": bad["event_id"], "field": "properties.items",
                                 "reason": "must contain at least one item"}]
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    stored = event_table.get(good["event_id"])
    assert stored["client_ts"] == "2026-01-05T08:00:00.000Z" and stored["received_at"] and stored["site_key"] == SITE_KEY
    assert event_table.get(bad["event_id"]) is None


def test_all_rejected_is_400(api):
    r = post(api, [{"event_id": uid("e"), "type": "page_view"}])
    assert r.status_code == 400 and r.json()["rejected"][0]["field"] == "anonymous_id"


def test_a_browser_names_only_the_customer_it_is_linked_to(api):
    """The site key is public: an add-to-cart naming someone else's customer id would start their
    abandoned-cart journey and mail them. Refused, nothing stored, until identify links the browser."""
    anon, victim = uid("a"), uid("c")
    cart = ev("add_to_cart", {"anonymous_id": anon, "customer_id": victim}, product_id="p1", quantity=1, price=2.5)
    r = post(api, [cart])
    assert r.status_code == 400, r.text
    [rej] = r.json()["rejected"]
    assert rej["field"] == "customer_id" and rej["event_id"] == cart["event_id"] and "identity token" in rej["reason"]
    assert event_table.get(cart["event_id"]) is None and list(event_table.of_subject(f"c#{victim}")) == []
    # a browser linked to another customer may not name this one either
    other = uid("c")
    assert identify(api, anon, other).status_code == 200
    assert post(api, [dict(cart, event_id=uid("e"))]).json()["rejected"][0]["field"] == "customer_id"
    # signed in on a browser of their own (identify with the shop's token), their events are theirs
    mine = uid("a")
    assert identify(api, mine, victim).status_code == 200
    own = ev("add_to_cart", {"anonymous_id": mine, "customer_id": victim}, product_id="p1", quantity=1, price=2.5)
    assert post(api, [own]).json()["accepted"] == [own["event_id"]]
    assert [e["event_id"] for e in event_table.of_subject(f"c#{victim}") if e["type"] == "add_to_cart"] == [own["event_id"]]


def test_posting_the_same_batch_twice_stores_each_event_once(api):
    anon = uid("a")
    batch = [ev("page_view", {"anonymous_id": anon}, url="/"), ev("search", {"anonymous_id": anon}, query="tea")]
    first, second = post(api, batch).json(), post(api, batch).json()
    assert first["duplicates"] == [] and sorted(second["duplicates"]) == sorted(e["event_id"] for e in batch)
    assert len(list(event_table.of_subject(f"a#{anon}"))) == 2
    assert profile_store.load(f"anon:{anon}")["counts"] == {"page_view": 1, "search": 1}


def test_concurrent_retries_store_once(api):
    anon = uid("a")
    batch = [ev("page_view", {"anonymous_id": anon}, url="/")]
    threads = [threading.Thread(target=post, args=(api, batch)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(list(event_table.of_subject(f"a#{anon}"))) == 1
    assert profile_store.load(f"anon:{anon}")["counts"] == {"page_view": 1}


def test_cors_and_site_key(api):
    anon = uid("a")
    e = ev("page_view", {"anonymous_id": anon}, url="/")
    r = post(api, [e], Origin="https://evil.example")
    assert r.status_code == 403 and r.json()["error"]["field"] == "Origin"
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.post(f"{api}/v1/events", json={"site_key": "nope", "events": [e]}, timeout=30)
    assert r.status_code == 403 and r.json()["error"]["field"] == "site_key"
    assert event_table.get(e["event_id"]) is None
    pre = requests.options(f"{api}/v1/events", headers={"Origin": ORIGIN,
                                                        "Access-Control-Request-Method": "POST"}, timeout=30)
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert requests.options(f"{api}/v1/identify", headers={"Origin": "https://evil.example"}, timeout=30).status_code == 403


def test_bad_bodies_answer_4xx_with_a_field(api):
    for data, status in ((b"{not json", 400), (b"[]", 400), (b'{"events": "x", "site_key": "demo-shop"}', 400),
                         (b"x" * (256 * 1024 + 1), 413)):
        r = requests.post(f"{api}/v1/events", data=data, headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == status and r.json()["error"]["field"]


def test_identify_links_earlier_and_later_anonymous_events(api):
    anon, cust = uid("a"), uid("c")
    before = ev("product_view", {"anonymous_id": anon}, ts="2026-01-05T08:00:00Z", product_id="p1", category="tea")
    post(api, [before])
    traits = dict(email="x@example.com", preferred_channel="sms", consents={"sms": True}, time_zone="Europe/Helsinki")
    idf = uid("idf")
    r = identify(api, anon, cust, idf, **traits)
    assert r.status_code == 200 and r.json()["linked"] is True
    # the tracker retries with the same event id: linked and stored once
    assert identify(api, anon, cust, idf, **traits).json() == {**r.json(), "linked": False, "duplicate": True}
    after = ev("add_to_cart", {"anonymous_id": anon}, ts="2026-01-05T08:05:00Z", product_id="p1", quantity=1)
    post(api, [after])
    assert event_table.get(after["event_id"])["customer_id"] == cust  # resolved through the link
    p = profile_store.load(cust)
    assert p["counts"] == {"product_view": 1, "identify": 1, "add_to_cart": 1}
    assert p["preferred_channel"] == "sms" and p["consents"]["sms"]["granted"] is True
    assert p["time_zone"] == "Europe/Helsinki" and p["recently_viewed"][0]["product_id"] == "p1"
    assert p["category_affinity"] == {"tea": 1}
    assert profile_store.load(f"anon:{anon}")["merged_into"] == cust


def test_two_devices_end_in_one_profile(api):
    phone, laptop, cust = uid("a"), uid("a"), uid("c")
    post(api, [ev("page_view", {"anonymous_id": phone}, url="/")])
    post(api, [ev("page_view", {"anonymous_id": laptop}, url="/"), ev("search", {"anonymous_id": laptop}, query="x")])
    assert identify(api, phone, cust).status_code == 200
    assert identify(api, laptop, cust).status_code == 200
    p = profile_store.load(cust)
    assert p["counts"] == {"page_view": 2, "search": 1, "identify": 2}
    assert p["anonymous_ids"] == sorted([phone, laptop])
    assert len(privacy.export(cust)["events"]) == 5


def test_a_browser_belongs_to_one_customer(api):
    anon = uid("a")
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(identify(api, anon, c).status_code))
               for c in (uid("c"), uid("c"), uid("c"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409]
    r = identify(api, anon, uid("c"))
    assert r.status_code == 409 and r.json()["error"]["field"] == "anonymous_id"


def test_identify_validation(api):
    r = requests.post(f"{api}/v1/identify", json={"site_key": SITE_KEY, "customer_id": "c1",
                                                 "traits": {"preferred_channel": "pigeon"}}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["field"] == "traits.preferred_channel"


def test_tracker_script_route(api):
    r = requests.get(f"{api}/v1/polku.js", timeout=30)
    assert r.status_code == 200 and "polku" in r.text and "max-age" in r.headers["Cache-Control"]
    again = requests.get(f"{api}/v1/polku.js", headers={"If-None-Match": r.headers["ETag"]}, timeout=30)
    assert again.status_code == 304


def test_server_side_events_are_recorded_once_and_reach_the_profile(api):
    from polku.tracking.server_events import record
    from polku.tracking.validation import Invalid

    cust = uid("c")
    opened = {"event_id": f"open-{cust}", "type": "email_open", "customer_id": cust,
              "ts": "2026-01-06T18:30:00Z", "properties": {"message_id": "m-1"}}
    assert record(opened) is True
    assert record(opened) is False
    p = profile_store.load(cust)
    assert p["open_hours"] == {str(24 + 18): 1} and p["last_read"]["channel"] == "email"
    with pytest.raises(Invalid) as err:
        record({**opened, "event_id": f"open2-{cust}", "properties": {}})
    assert err.value.field == "properties.message_id"
