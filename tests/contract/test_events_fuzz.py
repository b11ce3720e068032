"""Fuzz the ingest API with thousands of malformed batches (hypothesis).

The Chalice app runs in-process (chalice.test.Client) over the real DynamoDB
Local. For every batch: never a 5xx; every rejection names a field and a reason;
every accepted event is stored (nothing lost); no rejected event is stored; an accepted
event names a customer only when its browser (anonymous_id) is linked to that customer.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import uuid
from pathlib import Path

import boto3
import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from polku.data.base import bind_models
from polku.settings import Settings, get_settings
from polku.testing.dynamodb_local import create_tables_from_template
from polku.data.events import EventModel
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import http_api, privacy  # noqa: F401 - import models before binding them

pytestmark = [pytest.mark.dynamodb_local, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = json.loads((REPO / "tests/fixtures/api_event_examples.json").read_text())
SITE_KEY = "demo-shop"


@pytest.fixture(scope="module")
def client(dynamodb_local, template):
    for k, v in {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        os.environ.setdefault(k, v)
    ddb = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="eu-west-1")
    names = create_tables_from_template(ddb, template, stage="fz" + uuid.uuid4().hex[:8])
    bind_models(Settings(events_table=names["EventsTable"], identities_table=names["IdentitiesTable"],
                         profiles_table=names["ProfilesTable"]), host=dynamodb_local.endpoint_url)
    spec = importlib.util.spec_from_file_location("polku_track_app_fuzz", REPO / "functions/track/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Client(module.app) as c:
        yield c
    bind_models(get_settings(), host=None)


json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**40), 10**40),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20))
json_value = st.recursive(json_leaf, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                          max_leaves=12)
field_names = st.sampled_from(["event_id", "type", "anonymous_id", "customer_id", "ts", "properties", "context",
                               "junk"])
prop_names = st.sampled_from(["product_id", "quantity", "price", "items", "order_id", "revenue", "url", "query",
                              "lat", "lon", "store_id", "channel", "message_id", "name", "form_id", "extra"])


@st.composite
def event(draw):
    """A valid example event, then zero or more mutations (most events end up invalid)."""
    ev = copy.deepcopy(EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))])
    ev["event_id"] = "fz-" + uuid.uuid4().hex
    ev["ts"] = "2026-01-05T07:59:00Z"
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 5))
        if kind == 0:
            ev.pop(draw(field_names), None)
        elif kind == 1:
            ev[draw(field_names)] = draw(json_value)
        elif kind == 2 and isinstance(ev.get("properties"), dict):
            ev["properties"][draw(prop_names)] = draw(json_value)
        elif kind == 3 and isinstance(ev.get("properties"), dict):
            ev["properties"].pop(draw(prop_names), None)
        elif kind == 4:
            ev["ts"] = draw(st.one_of(st.text(max_size=30), st.sampled_from(
                ["2026-13-01T00:00:00Z", "2026-01-05", "2026-01-05T07:59:00", "9999-12-31T23:59:59Z",
                 "2026-01-05T07:59:00+14:00", "1970-01-01T00:00:00Z"])))
        elif kind == 5 and isinstance(ev.get("properties"), dict) and isinstance(ev["properties"].get("items"), list):
            ev["properties"]["items"].append(draw(json_value))
    if draw(st.integers(0, 30)) == 0:
        return draw(json_value)  # not an event at all
    return ev


@st.composite
def body(draw):
    events = draw(st.lists(event(), min_size=0, max_size=8))
    shape = draw(st.integers(0, 40))
    if shape == 0:
        return draw(st.binary(max_size=40)), events
    if shape == 1:
        return json.dumps(draw(json_value)).encode(), []
    if shape == 2:
        value = draw(json_value)
        return json.dumps({"site_key": SITE_KEY, "events": value}).encode(), value if isinstance(value, list) else []
    if shape == 3:
        return json.dumps({"site_key": draw(json_value), "events": events}).encode(), events
    return json.dumps({"site_key": SITE_KEY, "events": events}).encode(), events


def stored(ids) -> dict[str, dict]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        return {}
    return {m.event_id: event_table.as_dict(m) for m in EventModel.batch_get(ids)}


def _ours(ev) -> str | None:
    eid = ev.get("event_id") if isinstance(ev, dict) else None
    return eid if isinstance(eid, str) and eid.startswith("fz-") else None


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(body())
def test_fuzzed_batches(client, case):
    raw, events = case
    resp = client.http.post("/v1/events", headers={"Content-Type": "application/json"}, body=raw)
    assert resp.status_code < 500, resp.body
    out = json.loads(resp.body)
    if "error" in out:
        assert resp.status_code in (400, 403, 413)
        assert out["error"]["field"] and out["error"]["reason"]
        assert not stored(_ours(ev) for ev in events if _ours(ev))
        return
    conflict = any(r.get("conflict") for r in out["rejected"])  # an id reused with another body
    assert resp.status_code == (200 if out["accepted"] else 409 if conflict else 400)
    assert len(out["accepted"]) + len(out["rejected"]) + len(out["retry"]) == len(events)
    assert out["retry"] == []
    rejected_idx = set()
    for r in out["rejected"]:
        assert isinstance(r["field"], str) and r["field"] and isinstance(r["reason"], str) and r["reason"]
        rejected_idx.add(r["index"])
    accepted = [ev for i, ev in enumerate(events) if i not in rejected_idx]
    assert [ev["event_id"] for ev in accepted] == out["accepted"]
    accepted_ids = {ev["event_id"] for ev in accepted}
    rejected_ours = [_ours(events[i]) for i in rejected_idx if _ours(events[i]) not in accepted_ids]
    found = stored([ev["event_id"] for ev in accepted] + [e for e in rejected_ours if e])
    assert not [e for e in rejected_ours if e in found], "a rejected event was stored"
    for ev in accepted:
        item = found.get(ev["event_id"])
        assert item is not None, f"accepted event lost: {ev['event_id']}"
        if ev.get("customer_id"):  # the public route: only the customer its browser is linked to
            anon = ev.get("anonymous_id")
            assert isinstance(anon, str) and identities.customer_of(anon) == ev["customer_id"], ev
        if _ours(ev):
            assert item["type"] == ev["type"]
            assert set(item["properties"]) == {k for k, v in (ev.get("properties") or {}).items() if v is not None}


def test_batch_limits(client):
    too_many = {"site_key": SITE_KEY, "events": [EXAMPLES["search"]] * 101}
    r = client.http.post("/v1/events", headers={"Content-Type": "application/json"}, body=json.dumps(too_many))
    assert r.status_code == 413 and json.loads(r.body)["error"]["field"] == "events"
    big = {"site_key": SITE_KEY, "events": [dict(EXAMPLES["search"], properties={"query": "x" * 2000, "pad": "y" * 8000})] * 30}
    r = client.http.post("/v1/events", headers={"Content-Type": "application/json"}, body=json.dumps(big))
    assert r.status_code == 413 and json.loads(r.body)["error"]["field"] == "body"


trait_names = st.sampled_from(["email", "phone", "preferred_channel", "consents", "birthday", "locale", "time_zone",
                               "first_name", ""])


@st.composite
def identify_body(draw):
    body = {"site_key": SITE_KEY, "anonymous_id": "fz-a-" + uuid.uuid4().hex, "customer_id": "fz-c-" + uuid.uuid4().hex,
            "event_id": "fz-" + uuid.uuid4().hex,
            "traits": {"email": "a@example.com", "preferred_channel": "email", "consents": {"email": True}}}
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            body.pop(draw(st.sampled_from(sorted(body))), None)
        elif kind == 1:
            body[draw(st.sampled_from(["anonymous_id", "customer_id", "event_id", "ts", "traits", "context", "x"]))] = \
                draw(json_value)
        elif kind == 2 and isinstance(body.get("traits"), dict):
            body["traits"][draw(trait_names)] = draw(json_value)
        elif kind == 3:
            return draw(json_value)
    return body


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(identify_body())
def test_fuzzed_identify(client, body):
    resp = client.http.post("/v1/identify", headers={"Content-Type": "application/json"}, body=json.dumps(body))
    assert resp.status_code < 500, resp.body
    out = json.loads(resp.body)
    if resp.status_code == 200:
        assert event_table.get(out["event_id"])["type"] == "identify"
        if isinstance(body.get("anonymous_id"), str):
            assert identities.customer_of(body["anonymous_id"]) == body["customer_id"]
    else:
        assert resp.status_code in (400, 403, 409)
        assert out["error"]["field"] and out["error"]["reason"]
        if isinstance(body, dict) and isinstance(body.get("event_id"), str) and body["event_id"].startswith("fz-"):
            assert event_table.get(body["event_id"]) is None
        if isinstance(body, dict) and isinstance(body.get("anonymous_id"), str) and body["anonymous_id"].startswith("fz-a-"):
            assert identities.customer_of(body["anonymous_id"]) is None, "a refused identify linked the browser"
