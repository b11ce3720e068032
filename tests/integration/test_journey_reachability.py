"""Journeys that send start only for customers a consented channel reaches (issue #21, 9).

The reproduction: one unauthenticated ``POST /v1/events`` naming 100 made-up customers with
``product_view`` events used to start about half as many browse_abandonment executions (cost
amplification: every run pays its state transitions). The public route now refuses events naming
customers a browser is not linked to; the same batch through the server API is the case here. Through the twin's API, the real ingest,
profile updater and journey trigger: none starts, the trigger's metric JourneyStartsRefused
counts 100 for the journey, and a reachable customer still starts.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from polku.data.journey_state import JourneyStateModel
from polku.data.profiles import ProfileModel
from polku.journeys import registry
from polku.journeys.triggers import event_from_item, handle_event

pytestmark = pytest.mark.twin

SITE_KEY = "demo-shop"
JOURNEY = "browse_abandonment"


def refused_metric(stdout: str, journey: str) -> float:
    """Sum of the JourneyStartsRefused data points of ``journey`` in the EMF lines printed."""
    total = 0.0
    for line in stdout.splitlines():
        if '"_aws"' not in line or "JourneyStartsRefused" not in line:
            continue
        blob = json.loads(line[line.index("{"):])
        names = [m["Name"] for d in blob["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        if "JourneyStartsRefused" in names and blob.get("journey") == journey:
            values = blob["JourneyStartsRefused"]
            total += sum(values) if isinstance(values, list) else values
    return total


def stop(twin, execution_arn: str) -> None:
    """Stop a run the test started (it would go on writing); the twin may still be starting it."""
    import time

    for _ in range(50):
        try:
            twin.client("stepfunctions").stop_execution(executionArn=execution_arn)
            return
        except Exception:  # noqa: BLE001 - moto: the execution's worker is not set up yet
            time.sleep(0.1)


def _executions_of(twin, customers: set[str]) -> list[dict]:
    sfn = twin.client("stepfunctions")
    arn = twin.outputs["StateMachinePrefix"] + "browse-abandonment"
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        for e in page["executions"]:
            if e["name"].rsplit("-", 1)[0] in customers:
                found.append(e)
    return found


def test_a_batch_of_made_up_customers_starts_nothing_and_is_counted(twin, virtual_clock, capsys):
    tag = uuid.uuid4().hex[:8]
    made_up = [f"ghost-{tag}-{i}" for i in range(100)]
    real = f"shopper-{tag}"
    ProfileModel(real, traits={"email": f"{real}@example.com"}, consents={"email": {"granted": True}},
                 time_zone="UTC", version=1).save()
    views = lambda ids: [{"event_id": f"e-{uuid.uuid4().hex}", "type": "product_view",  # noqa: E731
                          "customer_id": cid, "ts": "2026-01-05T08:00:00Z", "properties": {"product_id": f"p-{i % 7}"}}
                         for i, cid in enumerate(ids)]
    # The public route (no credentials: a browser's call) no longer takes events naming customers its
    # browser is not linked to: the whole batch is refused, nothing stored.
    r = requests.post(f"{twin.api_url}/v1/events", data=json.dumps({"site_key": SITE_KEY, "events": views(made_up)}),
                      headers={"Content-Type": "text/plain"}, timeout=120)
    assert r.status_code == 400 and {x["field"] for x in r.json()["rejected"]} == {"customer_id"}, r.text[:500]
    assert len(r.json()["rejected"]) == 100 and r.json()["accepted"] == []
    # Behind it, the trigger's own check: the same batch from a shop's backend (its server key,
    # e.g. a leaked one) starts nothing either.
    from polku.tracking.trust_secrets import server_key_for

    capsys.readouterr()
    with virtual_clock.actor():  # time stands still: a started run waits in its first Wait state
        for batch in (views(made_up), views([real])):  # the first: the most one request may carry
            r = requests.post(f"{twin.api_url}/v1/server/events",
                              data=json.dumps({"site_key": SITE_KEY, "events": batch}), timeout=120,
                              headers={"Content-Type": "application/json", "X-Polku-Server-Key": server_key_for(SITE_KEY)})
            assert r.status_code in (200, 202), r.text[:500]
            assert len(r.json()["accepted"]) == len(batch)
    out = capsys.readouterr().out

    assert _executions_of(twin, set(made_up)) == []
    assert not [cid for cid in made_up  # nothing written for them either: no lock, no cooldown
                if list(JourneyStateModel.query(cid, JourneyStateModel.sk == f"run#{JOURNEY}", consistent_read=True))]
    assert refused_metric(out, JOURNEY) == 100

    run = JourneyStateModel.get(real, f"run#{JOURNEY}", consistent_read=True)  # the reachable one entered
    if run.status != "holdout":
        started = _executions_of(twin, {real})
        assert [e["name"] for e in started] == [run.execution_name]
        if started[0]["status"] == "RUNNING":
            stop(twin, started[0]["executionArn"])


def test_a_profile_behind_the_trigger_event_gets_the_record_delivered_again(twin, virtual_clock):
    """The profile updater and the trigger read the stream independently: an unreachable verdict
    on a profile that has not applied the trigger event is no verdict. The record is reported as
    failed (the stream delivers it again); once the profile holds the event the verdict stands,
    and a refusal leaves nothing behind, so a later delivery of a reachable customer starts."""
    from tests.conftest import load_fixture
    from tests.statemachines.test_triggers import executions_of, invoke, stream_event

    cid = f"late-{uuid.uuid4().hex[:8]}"
    item = load_fixture("stream_add_to_cart.json")
    item.update(customer_id=cid, subject=f"c#{cid}", event_id=f"ev-{cid}", ts=f"{item['client_ts']}#ev-{cid}")
    with virtual_clock.actor():
        resp = twin.client("lambda").invoke(FunctionName=twin.names["JourneyTriggerFunction"],
                                            Payload=json.dumps(stream_event(item, "1")).encode())
        body = resp["Payload"].read().decode()  # the only record failed: the batch fails, the stream retries it
        assert resp.get("FunctionError") and f"profile of {cid} has not applied event ev-{cid} yet" in body
        ProfileModel(cid, traits={"email": f"{cid}@example.com"}, applied=[item["event_id"]], version=1).save()
        assert invoke(twin, "JourneyTriggerFunction", stream_event(item, "2")) == {"batchItemFailures": []}
        # what the trigger's log line names: the journey and why
        outcome = handle_event(event_from_item(item), registry.current(), twin.client("stepfunctions"),
                               twin.outputs["StateMachinePrefix"], publish=None)
        assert outcome.entries == {"abandoned_cart": "unreachable"}
        assert outcome.refused == {"abandoned_cart": "no usable channel (email: no consent; push: no address; "
                                                     "sms: no address; webhook: no address)"}
        assert list(JourneyStateModel.query(cid, JourneyStateModel.sk == "run#abandoned_cart")) == []
        ProfileModel(cid, traits={"email": f"{cid}@example.com"}, consents={"email": {"granted": True}},
                     applied=[item["event_id"]], version=2).save()
        assert invoke(twin, "JourneyTriggerFunction", stream_event(item, "3")) == {"batchItemFailures": []}
        runs = executions_of(twin, "abandoned_cart", cid)
    assert len(runs) == 1  # started once the customer is reachable
    if runs[0]["status"] == "RUNNING":
        stop(twin, runs[0]["executionArn"])
