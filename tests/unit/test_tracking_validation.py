"""Validation and normalisation of single events (pure)."""

import datetime as dt
import json
from pathlib import Path

import pytest

from polku.tracking import event_schema
from polku.tracking.ingest import prepare
from polku.tracking.normalise import normalise
from polku.tracking.validation import Invalid, validate

NOW = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "api_event_examples.json"
EXAMPLES = json.loads(FIXTURE.read_text())  # one valid event per standard type
VALID = {t: e["properties"] for t, e in EXAMPLES.items()}


def event(etype="product_view", **over):
    ev = {"event_id": "e-1", "type": etype, "anonymous_id": "a-1", "ts": "2026-01-05T07:59:00Z",
          "properties": dict(VALID[etype])}
    ev.update(over)
    return ev


def test_every_standard_type_has_a_valid_example():
    assert set(VALID) == set(event_schema.EVENT_TYPES)
    for etype in VALID:
        assert validate(event(etype), NOW) == dt.datetime(2026, 1, 5, 7, 59, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("etype", sorted(VALID))
def test_each_required_property_is_named_when_missing(etype):
    spec = event_schema.EVENT_TYPES[etype]
    for p in spec.props:
        if not p.required:
            continue
        props = dict(VALID[etype])
        props.pop(p.name)
        with pytest.raises(Invalid) as err:
            validate(event(etype, properties=props), NOW)
        assert err.value.field == f"properties.{p.name}"
        assert "required" in err.value.reason


@pytest.mark.parametrize(
    "over, field, words",
    [
        ({"event_id": ""}, "event_id", "empty"),
        ({"event_id": "x" * 129}, "event_id", "at most 128"),
        ({"event_id": 5}, "event_id", "string"),
        ({"type": "teleport"}, "type", "one of"),
        ({"type": "identify"}, "type", "/v1/identify"),
        ({"anonymous_id": None}, "anonymous_id", "required"),
        ({"ts": "yesterday"}, "ts", "ISO-8601"),
        ({"ts": "2026-01-05T07:59:00"}, "ts", "time zone"),
        ({"ts": "2026-01-07T07:59:00Z"}, "ts", "future"),
        ({"ts": "1999-12-31T23:00:00Z"}, "ts", "2000"),
        ({"properties": []}, "properties", "object"),
        ({"colour": "red"}, "colour", "not an event field"),
        ({"context": {"locale": 5}}, "context.locale", "text"),
        ({"context": {"shoe_size": "44"}}, "context", "not a context field"),
        ({"": 1}, "event", "empty"),
        ({"properties": {"product_id": "sku", "x": float("nan")}}, "properties.x", "finite"),
        ({"properties": {"product_id": "sku", "x": 10**40}}, "properties.x", "too large"),
        ({"properties": {"product_id": "sku", "x": "\ud800"}}, "properties.x", "Unicode"),
    ],
)
def test_envelope_errors_name_the_field(over, field, words):
    with pytest.raises(Invalid) as err:
        validate(event(**over), NOW)
    assert err.value.field == field
    assert words in err.value.reason


def test_purchase_item_errors_point_into_the_list():
    props = dict(VALID["purchase"], items=[{"product_id": "a", "quantity": 1, "price": 1},
                                           {"product_id": "b", "quantity": 1, "price": -2}])
    with pytest.raises(Invalid) as err:
        validate(event("purchase", properties=props), NOW)
    assert (err.value.field, err.value.reason) == ("properties.items[1].price", "must be at least 0")


def test_location_needs_a_store_or_both_coordinates():
    with pytest.raises(Invalid) as err:
        validate(event("location", properties={"lat": 60.17}), NOW)
    assert err.value.field == "properties.store_id" and "lat+lon" in err.value.reason
    validate(event("location", properties={"lat": 60.17, "lon": 24.94}), NOW)
    with pytest.raises(Invalid) as err:
        validate(event("location", properties={"lat": 91, "lon": 24.94}), NOW)
    assert err.value.field == "properties.lat"


def test_booleans_are_not_numbers():
    with pytest.raises(Invalid) as err:
        validate(event("add_to_cart", properties={"product_id": "a", "quantity": True}), NOW)
    assert err.value.field == "properties.quantity"


def test_normalise_keeps_client_and_receive_time_and_stringifies_ids():
    ev = event("add_to_cart", ts="2026-01-05T09:59:00+02:00")
    item = normalise(ev, validate(ev, NOW), "2026-01-05T08:00:00.000Z", site_key="shop")
    assert item["client_ts"] == "2026-01-05T07:59:00.000Z"
    assert item["received_at"] == "2026-01-05T08:00:00.000Z"
    assert item["ts"] == "2026-01-05T07:59:00.000Z#e-1"
    assert item["subject"] == "a#a-1"
    assert item["properties"]["product_id"] == "196"
    assert item["site_key"] == "shop"


def test_linked_anonymous_events_belong_to_the_customer():
    ev = event()
    item = normalise(ev, validate(ev, NOW), "t", linked_customer_id="c-9")
    assert item["subject"] == "c#c-9" and item["customer_id"] == "c-9" and item["anonymous_id"] == "a-1"


def test_the_public_route_takes_a_customer_only_from_a_browser_linked_to_them():
    """Anyone with the site key may post to /v1/events: naming a customer there (and so starting
    their journeys, mailing them) needs the identity link a verified identify made."""
    batch = [event(event_id="mine", customer_id="c-9"), event(event_id="theirs", customer_id="c-10"),
             event(event_id="no-browser", customer_id="c-9", anonymous_id=None), event(event_id="anon")]
    batch[2].pop("anonymous_id")
    items, rejected = prepare(batch, NOW, links={"a-1": "c-9"}, browser=True)
    assert [(i["event_id"], i["subject"]) for i in items] == [("mine", "c#c-9"), ("anon", "c#c-9")]
    assert [(r["event_id"], r["field"]) for r in rejected] == [("theirs", "customer_id"), ("no-browser", "customer_id")]
    assert "identity token" in rejected[0]["reason"] and "/v1/server/events" in rejected[0]["reason"]
    # the shop's backend (the server route) names its customers itself
    items, rejected = prepare(batch, NOW, links={}, browser=False)
    assert rejected == [] and [i["subject"] for i in items] == ["c#c-9", "c#c-10", "c#c-9", "a#a-1"]


def test_prepare_validates_each_event_on_its_own():
    batch = [event(event_id="ok-1"), "nonsense", event(event_id="bad", type="nope"), event(event_id="ok-2")]
    items, rejected = prepare(batch, NOW)
    assert [i["event_id"] for i in items] == ["ok-1", "ok-2"]
    assert [(r["index"], r["field"]) for r in rejected] == [(1, "event"), (2, "type")]
    assert rejected[1]["event_id"] == "bad"
