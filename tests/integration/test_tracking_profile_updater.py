"""The profile updater (events stream consumer) in the twin: redelivery and partial failures."""

from __future__ import annotations

import copy
import uuid
from decimal import Decimal

import pytest
import requests
from boto3.dynamodb.types import TypeSerializer

from polku.data.base import bind_models
from polku.settings import get_settings
from polku.data import events as event_table
from polku.tracking import profile_store
from polku.twin import lambda_runtime

pytestmark = pytest.mark.twin
SER = TypeSerializer()


@pytest.fixture(scope="module")
def updater(twin):
    get_settings.cache_clear()
    bind_models(get_settings(), host=None)
    name = twin.names["ProfileUpdaterFunction"]

    def invoke(records):
        result, error = lambda_runtime.invoke(name, {"Records": records})
        assert error is None, result
        return result

    return invoke


def _ddb(value):
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _ddb(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ddb(v) for v in value]
    return value


def record(item: dict, seq: int, name="INSERT") -> dict:
    image = {k: SER.serialize(_ddb(v)) for k, v in item.items()}
    return {
        "eventID": uuid.uuid4().hex, "eventName": name, "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/polku-local-events/stream/x",
        "dynamodb": {"Keys": {"event_id": {"S": item["event_id"]}}, "NewImage": image,
                     "SequenceNumber": str(seq), "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def item(customer, n, etype="product_view", **props):
    ts = f"2026-01-05T08:00:{n:02d}.000Z"
    eid = f"{customer}-{n}"
    return {"event_id": eid, "subject": f"c#{customer}", "ts": f"{ts}#{eid}", "type": etype, "client_ts": ts,
            "received_at": ts, "customer_id": customer, "properties": props or {"product_id": f"p{n}"}}


def test_redelivering_a_batch_twice_leaves_the_profile_unchanged(updater):
    cust = f"c-{uuid.uuid4().hex[:10]}"
    batch = [record(item(cust, i), 100 + i) for i in range(5)]
    batch.append(record(item(cust, 9, "purchase", order_id="o1", revenue=7.5,
                             items=[{"product_id": "p1", "quantity": 3, "price": 2.5}]), 200))
    assert updater(batch) == {"batchItemFailures": []}
    once = profile_store.load(cust)
    assert once["counts"] == {"product_view": 5, "purchase": 1} and once["revenue"] == 7.5
    assert updater(copy.deepcopy(batch)) == {"batchItemFailures": []}
    assert updater(copy.deepcopy(batch)) == {"batchItemFailures": []}
    assert profile_store.load(cust) == once  # same version too: nothing was rewritten


def test_real_stream_then_redelivery(twin, updater):
    anon = f"a-{uuid.uuid4().hex[:10]}"
    events = [{"event_id": uuid.uuid4().hex, "type": "product_view", "anonymous_id": anon,
               "ts": "2026-01-05T08:00:00Z", "properties": {"product_id": "p1"}}]
    r = requests.post(f"{twin.api_url}/v1/events", json={"site_key": "demo-shop", "events": events}, timeout=30)
    assert r.status_code == 200
    before = profile_store.load(f"anon:{anon}")
    assert before["counts"] == {"product_view": 1}  # the twin's stream mapping ran the updater
    stored = event_table.get(events[0]["event_id"])
    updater([record(stored, 1)])
    assert profile_store.load(f"anon:{anon}") == before


def test_a_bad_record_fails_alone(updater):
    cust = f"c-{uuid.uuid4().hex[:10]}"
    good = record(item(cust, 1), 11)
    broken = item(cust, 2)
    del broken["client_ts"]
    bad = record(broken, 12)
    removed = record(item(cust, 3), 13, name="REMOVE")
    assert updater([good, bad, removed]) == {"batchItemFailures": [{"itemIdentifier": "12"}]}
    assert profile_store.load(cust)["counts"] == {"product_view": 1}
