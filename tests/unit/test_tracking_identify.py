"""Identify requests: validation and the identify event they become (pure part)."""

import datetime as dt

import pytest

from polku.tracking.identify import prepare
from polku.tracking.validation import Invalid

NOW = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def test_identify_becomes_an_event_of_the_customer():
    item, anon = prepare({"anonymous_id": "a1", "customer_id": "c1", "event_id": "i1",
                          "traits": {"email": "a@example.com", "consents": {"sms": False}}}, NOW, "shop")
    assert anon == "a1"
    assert item["subject"] == "c#c1" and item["type"] == "identify" and item["event_id"] == "i1"
    assert item["client_ts"] == item["received_at"] == "2026-01-05T08:00:00.000Z"
    assert item["properties"] == {"traits": {"email": "a@example.com", "consents": {"sms": False}}}


def test_without_an_event_id_the_same_request_gets_the_same_id():
    body = {"anonymous_id": "a1", "customer_id": "c1", "ts": "2026-01-05T07:00:00Z", "traits": {"x": 1}}
    assert prepare(body, NOW)[0]["event_id"] == prepare(dict(body), NOW)[0]["event_id"]
    assert prepare(body, NOW)[0]["event_id"] != prepare({**body, "traits": {"x": 2}}, NOW)[0]["event_id"]


@pytest.mark.parametrize("body, field", [
    ({}, "customer_id"),
    ({"customer_id": "c 1"}, "customer_id"),
    ({"customer_id": "c1", "anonymous_id": ""}, "anonymous_id"),
    ({"customer_id": "c1", "traits": []}, "traits"),
    ({"customer_id": "c1", "traits": {"email": "nope"}}, "traits.email"),
    ({"customer_id": "c1", "traits": {"phone": "0401234567"}}, "traits.phone"),
    ({"customer_id": "c1", "traits": {"consents": {"email": "yes"}}}, "traits.consents.email"),
    ({"customer_id": "c1", "traits": {"consents": {"fax": True}}}, "traits.consents.fax"),
    ({"customer_id": "c1", "traits": {"birthday": "1990-02-30"}}, "traits.birthday"),
    ({"customer_id": "c1", "ts": "2026-02-01T00:00:00Z"}, "ts"),
    ({"customer_id": "c1", "password": "x"}, "body"),
])
def test_bad_identify_names_the_field(body, field):
    with pytest.raises(Invalid) as err:
        prepare(body, NOW)
    assert err.value.field == field
