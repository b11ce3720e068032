"""The trigger and scheduler Lambdas on the twin: redelivery, goal stop, scheduled idempotency."""

from __future__ import annotations

import datetime as dt
import json
import uuid

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
    ProfileModel(cid, traits={"birthday": f"1990-{today}", "email": f"{cid}@example.com"}, version=1).save()
    # The scheduler runs hourly; birthday is due at 08:00 UTC (the virtual clock starts at 08:00).
    with virtual_clock.actor():
        first = invoke(twin, "JourneySchedulerFunction", {})
        second = invoke(twin, "JourneySchedulerFunction", {})
        virtual_clock.yield_now()
        runs = executions_of(twin, "birthday", cid)
        assert first["started"]["birthday"] >= 1 and second["started"]["birthday"] == 0
        assert len(runs) == 1
        sfn = twin.client("stepfunctions")
        sfn.stop_execution(executionArn=runs[0]["executionArn"])  # leave nothing waiting behind
    virtual_clock.wait_idle(timeout=60)
    assert virtual_clock.now() < dt.datetime(2026, 1, 6, tzinfo=dt.timezone.utc)


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
