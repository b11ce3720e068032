"""Issue #20 points 1 and 5, issue #21 point 4, reproduced on the twin through the local API.

1. Event ids are one table-wide key: another sender reusing an id must not be told its
   event was accepted (it was not stored), and /v1/identify reusing an id must not drop the
   traits event silently.
5. /v1/identify follows the event rules (time window, locale, time zone, UTF-8).
#21.4 ids are matched in full (no trailing newline) and ``anon:`` is no customer id.
"""

from __future__ import annotations

import json

import pytest
import requests

from polku.tracking.trust_secrets import mint_for  # identify needs a token from the shop's backend (#16)
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import profile_store  # noqa: F401 - import models first

from waiting import uid  # tests/integration/waiting.py

pytestmark = pytest.mark.twin
SITE_KEY = "demo-shop"


_browsers: dict[str, str] = {}


def browser_of(api, customer: str) -> str | None:
    """The anonymous id of a browser the customer signed in on (identify with the shop's token):
    the public route takes events naming a customer only from such a browser. None when identify
    refuses the id (the event's own validation then names it)."""
    if customer not in _browsers:
        anon = uid("a")
        r = requests.post(f"{api}/v1/identify", json={"site_key": SITE_KEY, "anonymous_id": anon, "customer_id": customer,
                                                     "identity_token": mint_for(SITE_KEY, customer)}, timeout=30)
        if r.status_code != 200:
            return None
        _browsers[customer] = anon
    return _browsers[customer]


def post(api, events):
    """Events as the customers' signed-in browsers send them (each customer on a browser of their own)."""
    for ev in events:
        if isinstance(ev.get("customer_id"), str) and "anonymous_id" not in ev:
            anon = browser_of(api, ev["customer_id"])
            if anon:
                ev["anonymous_id"] = anon
    return requests.post(f"{api}/v1/events", data=json.dumps({"site_key": SITE_KEY, "events": events}),
                         headers={"Content-Type": "text/plain"}, timeout=30)


def purchase(event_id, customer, order, revenue=20.0):
    return {"event_id": event_id, "type": "purchase", "customer_id": customer, "ts": "2026-01-05T08:00:00Z",
            "properties": {"order_id": order, "revenue": revenue,
                           "items": [{"product_id": "p1", "quantity": 1, "price": revenue}]}}


def test_another_senders_event_id_is_refused_not_reported_accepted(api):
    shared = uid("evt-shared")
    a, b = uid("c"), uid("c")
    first = post(api, [{"event_id": shared, "type": "page_view", "customer_id": a, "ts": "2026-01-05T08:00:00Z",
                        "properties": {"url": "/"}}])
    assert first.status_code == 200 and first.json()["accepted"] == [shared]

    second = post(api, [purchase(shared, b, uid("o"))])
    assert second.status_code == 409, second.text
    body = second.json()
    assert body["accepted"] == [] and body["duplicates"] == []
    [rej] = body["rejected"]
    assert rej["field"] == "event_id" and rej["index"] == 0 and rej["event_id"] == shared and rej["conflict"] is True
    assert event_table.get(shared)["customer_id"] == a  # A's event untouched

    # the same purchase under its own id is stored; a true resend of it is still a duplicate
    own = purchase(uid("evt"), b, uid("o"))
    assert post(api, [own]).json()["accepted"] == [own["event_id"]]
    again = post(api, [own]).json()
    assert again["accepted"] == again["duplicates"] == [own["event_id"]]


def test_a_mixed_batch_accepts_the_rest_and_names_the_collision(api):
    taken = uid("evt")
    assert post(api, [purchase(taken, uid("c"), uid("o"))]).status_code == 200
    mine = uid("c")
    fresh = purchase(uid("evt"), mine, uid("o"))
    r = post(api, [fresh, purchase(taken, mine, uid("o"), revenue=99.0)])
    assert r.status_code == 200
    assert r.json()["accepted"] == [fresh["event_id"]]
    assert [(x["index"], x["field"]) for x in r.json()["rejected"]] == [(1, "event_id")]


def test_same_id_same_subject_different_body_is_a_conflict(api):
    cust, eid = uid("c"), uid("evt")
    assert post(api, [purchase(eid, cust, "o-1", 10.0)]).status_code == 200
    r = post(api, [purchase(eid, cust, "o-1", 11.0)])
    assert r.status_code == 409 and r.json()["rejected"][0]["field"] == "event_id"
    assert event_table.get(eid)["properties"]["revenue"] == 10


def test_identify_reusing_an_event_id_is_refused_before_the_link(api):
    shared = uid("evt-shared")
    assert post(api, [purchase(shared, uid("c"), uid("o"))]).status_code == 200
    anon, cust = uid("a"), uid("c")
    r = requests.post(f"{api}/v1/identify", json={"site_key": SITE_KEY, "event_id": shared, "anonymous_id": anon,
                                                 "customer_id": cust, "traits": {"email": "b@example.com"},
                                                 "identity_token": mint_for(SITE_KEY, cust)}, timeout=30)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["field"] == "event_id"
    assert identities.customer_of(anon) is None  # nothing half-done: no link without its traits event
    assert event_table.get(shared)["type"] == "purchase"
    # a retried identify (same id, same body) is still a duplicate, not a conflict
    body = {"site_key": SITE_KEY, "event_id": uid("idf"), "anonymous_id": anon, "customer_id": cust,
            "ts": "2026-01-05T08:00:00Z", "traits": {"email": "b@example.com"}, "identity_token": mint_for(SITE_KEY, cust)}
    assert requests.post(f"{api}/v1/identify", json=body, timeout=30).json()["duplicate"] is False
    assert requests.post(f"{api}/v1/identify", json=body, timeout=30).json()["duplicate"] is True


def test_an_anonymous_event_resent_after_its_browser_was_linked_is_a_duplicate(api):
    anon, cust = uid("a"), uid("c")
    view = {"event_id": uid("evt"), "type": "page_view", "anonymous_id": anon, "ts": "2026-01-05T08:00:00Z",
            "properties": {"url": "/"}}
    assert post(api, [view]).status_code == 200
    assert requests.post(f"{api}/v1/identify", json={"site_key": SITE_KEY, "anonymous_id": anon, "customer_id": cust,
                                                     "identity_token": mint_for(SITE_KEY, cust)}, timeout=30).status_code == 200
    again = post(api, [view]).json()  # now resolved to c#cust, stored under a#anon: the same event
    assert again["duplicates"] == [view["event_id"]]


@pytest.mark.parametrize("change, field", [
    ({"ts": "0001-01-01T00:00:00Z"}, "ts"),
    ({"ts": "1999-12-31T23:59:59Z"}, "ts"),
    ({"traits": {"locale": "<script>"}}, "traits.locale"),
    ({"traits": {"locale": "fi_FI"}}, "traits.locale"),
    ({"traits": {"time_zone": "Not/AZone"}}, "traits.time_zone"),
    ({"traits": {"time_zone": "../../etc/passwd"}}, "traits.time_zone"),
    ({"context": {"locale": "<b>"}}, "context.locale"),
    ({"context": {"page": "x"}}, "context"),
    ({"customer_id": "anon:someone-else"}, "customer_id"),
    ({"customer_id": "c1\n"}, "customer_id"),
    ({"event_id": "e1\n"}, "event_id"),
])
def test_identify_follows_the_event_rules(api, change, field):
    anon = uid("a")
    body = {"site_key": SITE_KEY, "anonymous_id": anon, "customer_id": uid("c"), **change}
    r = requests.post(f"{api}/v1/identify", json=body, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["field"] == field
    assert identities.customer_of(anon) is None


def test_identify_with_invalid_utf8_is_refused(api):
    anon, cust = uid("a"), uid("c")
    raw = (b'{"site_key": "demo-shop", "anonymous_id": "' + anon.encode() + b'", "customer_id": "' + cust.encode()
           + b'", "traits": {"first_name": "Ann\xff\xfe"}}')
    for content_type in ("application/json", "text/plain"):
        r = requests.post(f"{api}/v1/identify", data=raw, headers={"Content-Type": content_type}, timeout=30)
        assert r.status_code == 400, r.text
        assert r.json()["error"]["field"] == "body"
    assert identities.customer_of(anon) is None
    # events are refused the same way
    ev = (b'{"site_key": "demo-shop", "events": [{"event_id": "' + uid("e").encode() + b'", "type": "search", '
          b'"anonymous_id": "' + anon.encode() + b'", "ts": "2026-01-05T08:00:00Z", "properties": {"query": "\xc3("}}]}')
    r = requests.post(f"{api}/v1/events", data=ev, headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"]["field"] == "body"


def test_valid_identify_traits_reach_the_profile(api):
    anon, cust = uid("a"), uid("c")
    r = requests.post(f"{api}/v1/identify", json={
        "site_key": SITE_KEY, "anonymous_id": anon, "customer_id": cust, "ts": "2026-01-05T08:00:00Z",
        "traits": {"locale": "zh-Hant-TW", "time_zone": "Asia/Taipei"}, "identity_token": mint_for(SITE_KEY, cust)},
        timeout=30)
    assert r.status_code == 200, r.text
    p = profile_store.load(cust)
    assert p["locale"] == "zh-Hant-TW" and p["time_zone"] == "Asia/Taipei"
    assert p["first_seen"].startswith("2026-01-05")


def test_event_ids_with_a_trailing_newline_and_anon_customers_are_refused(api):
    anon = uid("a")
    r = post(api, [{"event_id": "a\n", "type": "page_view", "anonymous_id": anon, "ts": "2026-01-05T08:00:00Z",
                    "properties": {"url": "/"}},
                   {"event_id": uid("e"), "type": "page_view", "customer_id": f"anon:{anon}",
                    "ts": "2026-01-05T08:00:00Z", "properties": {"url": "/"}}])
    assert r.status_code == 400
    assert [(x["index"], x["field"]) for x in r.json()["rejected"]] == [(0, "event_id"), (1, "customer_id")]
    assert profile_store.load(f"anon:{anon}") is None
