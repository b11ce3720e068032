"""The trigger and scheduler Lambdas on the twin: redelivery, goal stop, scheduled idempotency."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from boto3.dynamodb.types import TypeSerializer

from polku import clock
from polku.journeys import registry
from tests.conftest import load_fixture


def stream_event(item: dict, seq: str = "1") -> dict:
    ser = TypeSerializer()
    image = {k: ser.serialize(v) for k, v in item.items()}
    return {"Records": [{
        "eventID": seq, "eventName": "INSERT", "eventSource": "aws:dynamodb", "awsRegion": "eu-west-1",
        "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/polku-local-events/stream/x",
        "dynamodb": {"Keys": {"event_id": image["event_id"]}, "NewImage": image, "SequenceNumber": seq,
                     "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }]}


def invoke(twin, logical_id: str, payload: dict) -> dict:
    resp = twin.client("lambda").invoke(FunctionName=twin.names[logical_id], Payload=json.dumps(payload).encode())
    body = json.loads(resp["Payload"].read())
    assert "FunctionError" not in resp, body
    return body


def executions_of(twin, journey: str, customer_id: str) -> list[dict]:
    sfn = twin.client("stepfunctions")
    arn = twin.outputs["StateMachinePrefix"] + registry.load().get(journey).state_machine
    out = []
    for ex in sfn.list_executions(stateMachineArn=arn)["executions"]:
        d = sfn.describe_execution(executionArn=ex["executionArn"])
        if json.loads(d["input"]).get("customer_id") == customer_id:
            out.append(d)
    return out


def test_redelivered_trigger_event_starts_no_second_execution_and_goal_stops_the_run(journey_twin, virtual_clock):
    twin = journey_twin
    item = load_fixture("stream_add_to_cart.json")
    cid = f"redeliver-{uuid.uuid4().hex[:8]}"
    item.update(customer_id=cid, subject=f"c#{cid}", event_id=f"ev-{cid}")
    item["ts"] = f"{item['client_ts']}#{item['event_id']}"
    from polku.data.profiles import ProfileModel

    ProfileModel(cid, traits={"email": f"{cid}@example.com"}, consents={"email": {"granted": True}}, version=1).save()
    with virtual_clock.actor():
        invoke(twin, "JourneyTriggerFunction", stream_event(item))
        virtual_clock.yield_now()
        invoke(twin, "JourneyTriggerFunction", stream_event(item, "2"))  # the stream delivers it again
        virtual_clock.yield_now()
        runs = executions_of(twin, "abandoned_cart", cid)
        assert len(runs) == 1 and runs[0]["status"] == "RUNNING"

        purchase = dict(item, event_id=f"buy-{cid}", type="purchase",
                        properties={"order_id": "o1", "revenue": 10, "items": [{"product_id": "p1", "quantity": 1, "price": 10}]})
        invoke(twin, "JourneyTriggerFunction", stream_event(purchase, "3"))
        virtual_clock.yield_now()
    virtual_clock.wait_idle(timeout=60)
    runs = executions_of(twin, "abandoned_cart", cid)
    assert [r["status"] for r in runs] == ["ABORTED"]

    from polku.data.journey_state import JourneyStateModel

    run = JourneyStateModel.get(cid, "run#abandoned_cart", consistent_read=True)
    assert (run.status, run.exit_reason) == ("exited", "goal")


def test_scheduler_tick_twice_starts_each_birthday_once(journey_twin, virtual_clock):
    twin = journey_twin
    from polku.data.profiles import ProfileModel

    today = clock.now().strftime("%m-%d")
    cid = f"bday-{uuid.uuid4().hex[:8]}"
    ProfileModel(cid, traits={"birthday": f"1990-{today}", "email": f"{cid}@example.com"},
                 consents={"email": {"granted": True}}, version=1).save()
    # The scheduler runs hourly; birthday is due at 08:00 UTC (the virtual clock starts at 08:00).
    with virtual_clock.actor():
        first = invoke(twin, "JourneySchedulerFunction", {})
        second = invoke(twin, "JourneySchedulerFunction", {})
        virtual_clock.yield_now()
        runs = executions_of(twin, "birthday", cid)
        # the template's SchedulerSegments (4): the due tick fans out, one invocation per scan segment
        assert "birthday" in first["due"] and first["segments"] == 4 and second["when"] == first["when"]
        assert len(runs) == 1
        sfn = twin.client("stepfunctions")
        sfn.stop_execution(executionArn=runs[0]["executionArn"])  # leave nothing waiting behind
    virtual_clock.wait_idle(timeout=60)
    assert virtual_clock.now() < dt.datetime(2026, 1, 6, tzinfo=dt.timezone.utc)


def test_scheduler_segments_enter_each_customer_once_and_a_retried_segment_starts_nothing(journey_twin, virtual_clock):
    """The parallel scan's segments partition the profiles: every matching customer is entered by
    exactly one segment, and a segment run again (Lambda retries async invocations) starts nothing."""
    twin = journey_twin
    from polku.data.profiles import ProfileModel

    today = clock.now().strftime("%m-%d")
    ids = [f"seg-{uuid.uuid4().hex[:8]}" for _ in range(12)]
    for cid in ids:
        ProfileModel(cid, traits={"birthday": f"1991-{today}", "email": f"{cid}@example.com"},
                     consents={"email": {"granted": True}}, version=1).save()
    from polku.journeys.triggers import scan_profiles

    seen = [cid for i in range(3) for cid in (p["customer_id"] for p in scan_profiles(i, 3)) if cid in ids]
    assert sorted(seen) == sorted(ids)  # each customer in exactly one segment
    tick = {"total_segments": 3, "when": clock.to_iso(clock.now())}
    with virtual_clock.actor():
        parts = [invoke(twin, "JourneySchedulerFunction", {**tick, "segment": i}) for i in range(3)]
        again = invoke(twin, "JourneySchedulerFunction", {**tick, "segment": 1})
        virtual_clock.yield_now()
        runs = {cid: executions_of(twin, "birthday", cid) for cid in ids}
        assert [p["segment"] for p in parts] == [0, 1, 2] and again["started"]["birthday"] == 0
        assert {cid: len(r) for cid, r in runs.items()} == {cid: 1 for cid in ids}
        assert sum(p["started"]["birthday"] for p in parts) >= len(ids)  # ours, and any other test's due today
        sfn = twin.client("stepfunctions")
        for r in runs.values():
            sfn.stop_execution(executionArn=r[0]["executionArn"])
    virtual_clock.wait_idle(timeout=60)


def test_scheduler_segments_setting_is_checked_naming_it():
    from polku.settings import Settings, SettingsError

    assert Settings.from_env({}).scheduler_segment_count == 1
    assert Settings.from_env({"SCHEDULER_SEGMENTS": " 8 "}).scheduler_segment_count == 8
    for bad in ("0", "65", "two", ""):
        with pytest.raises(SettingsError, match="SCHEDULER_SEGMENTS"):
            Settings.from_env({"SCHEDULER_SEGMENTS": bad}).scheduler_segment_count


def test_scheduler_rejects_a_bad_segment_event_naming_the_field(journey_twin):
    resp = journey_twin.client("lambda").invoke(
        FunctionName=journey_twin.names["JourneySchedulerFunction"],
        Payload=json.dumps({"segment": 3, "total_segments": 3, "when": "2026-01-05T08:00:00Z"}).encode())
    body = json.loads(resp["Payload"].read())
    assert resp.get("FunctionError") and body["errorType"] == "SchedulerInputError"
    assert body["errorMessage"].startswith("segment: a whole number from 0 to 2")


def test_offer_events_reach_the_offers_bus(journey_twin, virtual_clock):
    """OfferGranted/OfferRevoked are EventBridge events (source polku.offer) on the OffersBus."""
    twin = journey_twin
    events = twin.client("events")
    sqs = twin.client("sqs")
    bus = twin.outputs["OffersBusName"]
    q = sqs.create_queue(QueueName=f"erp-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"erp-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["polku.offer"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "erp", "Arn": q_arn}])
    cid = f"offer-{uuid.uuid4().hex[:8]}"
    grant = invoke(twin, "OfferFunction", {"action": "grant", "customer_id": cid, "journey": "birthday",
                                           "execution_id": f"arn:x:{cid}", "step": "Grant",
                                           "offer": {"code": "BDAY20", "discount_percent": 20, "valid_hours": 168}})
    again = invoke(twin, "OfferFunction", {"action": "grant", "customer_id": cid, "journey": "birthday",
                                           "execution_id": f"arn:x:{cid}", "step": "Grant",
                                           "offer": {"code": "BDAY20", "discount_percent": 20, "valid_hours": 168}})
    assert again["offer_id"] == grant["offer_id"]
    invoke(twin, "OfferFunction", {"action": "revoke", "customer_id": cid, "offer_id": grant["offer_id"]})
    invoke(twin, "OfferFunction", {"action": "revoke", "customer_id": cid, "offer_id": grant["offer_id"]})
    msgs = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10).get("Messages", [])
    bodies = [json.loads(m["Body"]) for m in msgs]
    assert sorted(b["detail-type"] for b in bodies) == ["OfferGranted", "OfferRevoked"]  # once each
    assert {b["detail"]["offer_id"] for b in bodies} == {grant["offer_id"]}
    assert all(b["source"] == "polku.offer" for b in bodies)
