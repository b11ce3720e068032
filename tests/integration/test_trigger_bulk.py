"""Bulk traffic reaches the journey trigger once per event (issue #21, 3).

One request with 100 ``product_view`` events of 100 customers is written by the ingest's parallel
writers; every event must start exactly one browse_abandonment run (the twin lost about half of
them: moto's stream shard handed its whole, shared record list to the consumers on every write and
then emptied it, so records written meanwhile by other threads were dropped or delivered again).
The same for several such requests at once. The stream shard's sequence numbers stay unique under
concurrent writes too (the async delivery matches ReportBatchItemFailures by them).
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
import requests

from polku.data.profiles import ProfileModel

pytestmark = pytest.mark.twin

SITE_KEY = "demo-shop"


def _customers(n: int) -> list[str]:
    tag = uuid.uuid4().hex[:8]
    ids = [f"bulk-{tag}-{i}" for i in range(n)]
    with ProfileModel.batch_write() as batch:  # reachable customers (e-mail with consent)
        for cid in ids:
            batch.save(ProfileModel(cid, traits={"email": f"{cid}@example.com"}, consents={"email": {"granted": True}},
                                    time_zone="UTC"))
    return ids


def _views(ids: list[str], ts: str) -> list[dict]:
    return [{"event_id": f"e-{uuid.uuid4().hex}", "type": "product_view", "customer_id": cid, "ts": ts,
             "properties": {"product_id": f"p-{i % 7}"}} for i, cid in enumerate(ids)]


def _post(api, events) -> dict:
    """A batch from the shop's backend (the server API names its customers)."""
    from polku.tracking.trust_secrets import server_key_for

    r = requests.post(f"{api}/v1/server/events", data=json.dumps({"site_key": SITE_KEY, "events": events}),
                      headers={"Content-Type": "application/json", "X-Polku-Server-Key": server_key_for(SITE_KEY)},
                      timeout=120)
    assert r.status_code in (200, 202), r.text[:500]
    body = r.json()
    assert len(body["accepted"]) == len(events) and not body["retry"], body
    return body


def _entries(ids: list[str]) -> dict[str, int]:
    """Runs of browse_abandonment per customer (a holdout customer's entry counts as its run)."""
    from polku.data.journey_state import JourneyStateModel

    out = {}
    for cid in ids:
        items = list(JourneyStateModel.query(cid, JourneyStateModel.sk == "run#browse_abandonment", consistent_read=True))
        out[cid] = sum(int(i.runs or 1) for i in items)
    return out


def _started(twin, ids: list[str]) -> int:
    sfn = twin.client("stepfunctions")
    arn = twin.outputs["StateMachinePrefix"] + "browse-abandonment"
    names = set()
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        names.update(e["name"] for e in page["executions"])
    from polku.data.journey_state import JourneyStateModel

    ours = set()
    for cid in ids:
        for item in JourneyStateModel.query(cid, JourneyStateModel.sk == "run#browse_abandonment"):
            if item.status != "holdout":
                ours.add(item.execution_name)
    return len(ours & names), len(ours)


def test_one_request_of_100_events_of_100_customers_starts_100_runs(twin, virtual_clock):
    ids = _customers(100)
    with virtual_clock.actor():  # time stands still: every run waits in its first Wait state
        _post(twin.api_url, _views(ids, "2026-01-05T08:00:00Z"))
    entries = _entries(ids)
    assert sorted(set(entries.values())) == [1], {c: n for c, n in entries.items() if n != 1}
    started, expected = _started(twin, ids)
    assert started == expected  # every run that is not a holdout has its execution


def test_concurrent_requests_start_one_run_per_customer(twin, virtual_clock):
    ids = _customers(100)
    batches = [ids[i::4] for i in range(4)]
    errors = []

    def post(batch):
        try:
            _post(twin.api_url, _views(batch, "2026-01-05T08:00:00Z"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with virtual_clock.actor():
        threads = [threading.Thread(target=post, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    entries = _entries(ids)
    assert sorted(set(entries.values())) == [1], {c: n for c, n in entries.items() if n != 1}


def test_each_record_reaches_the_trigger_once_with_its_own_sequence_number(twin, virtual_clock, monkeypatch):
    from polku.twin import lambda_runtime

    trigger = twin.names["JourneyTriggerFunction"]
    received: list[dict] = []
    original = lambda_runtime.invoke

    def spy(name, event):
        if name == trigger and isinstance(event, dict):
            received.extend(event.get("Records") or [])
        return original(name, event)

    monkeypatch.setattr(lambda_runtime, "invoke", spy)
    ids = _customers(60)
    events = _views(ids, "2026-01-05T08:00:00Z")
    with virtual_clock.actor():
        _post(twin.api_url, events)
    ours = {e["event_id"] for e in events}
    got = [r["dynamodb"]["NewImage"]["event_id"]["S"] for r in received
           if r["dynamodb"].get("NewImage", {}).get("event_id", {}).get("S") in ours]
    assert sorted(got) == sorted(ours)  # each exactly once
    seqs = [r["dynamodb"]["SequenceNumber"] for r in received]
    assert len(seqs) == len(set(seqs))
