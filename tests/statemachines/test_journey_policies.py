"""Journey policies a marketer checks by the outcome: the lead-score gate, store hours, event dates,
the sales hand-over (real ASL, real handlers, virtual clock)."""

from __future__ import annotations

from tests.statemachines.conftest import actions, event, exits, identify, of


def sent_states(happenings, customer) -> list[str]:
    return [h["state"] for h in of(happenings, customer, "message") if h.get("status") == "sent"]


# ---------------------------------------------------------------- nurture: the score as of now
def test_nurture_gate_reads_the_lead_score_decayed_to_now(run_journey):
    """identify (10) + lead form (15) + six page views (6) = 31 on day 0; three days later the score
    is 26.7 (half-life 14 days), under the threshold of 30: no hand-over, the next lesson instead."""
    run = run_journey("nurture")
    c = run.cid("cooling")
    lines = [identify(c, "2026-01-05T08:00:00Z"), event(c, "form_submit", "2026-01-05T09:00:00Z", form_id="lead")]
    lines += [event(c, "page_view", f"2026-01-05T09:0{i}:00Z", url=f"https://shop.example/{i}") for i in range(6)]
    out = run(lines)
    assert "sales_handoff" not in actions(out, c)
    assert sent_states(out, c) == ["SendLesson1", "SendLesson2", "SendLesson3"]
    assert exits(out, c) == ["completed"]


# ---------------------------------------------------------------- location offer: each store's own hours
def near(c, ts, store):
    return event(c, "location", ts, store_id=store)


def test_a_new_york_store_is_judged_by_new_york_time(run_journey):
    run = run_journey("location_offer")
    evening, morning = run.cid("nyevening"), run.cid("nymorning")
    out = run([identify(evening, "2026-01-05T08:00:00Z", time_zone="America/New_York"),
               identify(morning, "2026-01-05T08:00:00Z", time_zone="America/New_York"),
               near(evening, "2026-01-05T23:00:00Z", "nyc-1"),   # 18:00 in New York (01:00 in Helsinki)
               near(morning, "2026-01-05T12:00:00Z", "nyc-1")])  # 07:00 in New York (14:00 in Helsinki)
    assert sent_states(out, evening) == ["SendStoreOffer"]
    granted, revoked = [a for a in of(out, evening, "action")]
    assert granted["code"] == "STORE10" and revoked["at"] == granted["valid_until"] == "2026-01-06T02:00:00.000Z"
    assert sent_states(out, morning) == [] and of(out, morning, "action") == []
    assert exits(out, evening) == exits(out, morning) == ["completed"]


def test_an_offer_mail_that_quiet_hours_would_delay_past_the_offer_is_not_sent(run_journey):
    """A Helsinki customer near the New York store at 18:00 New York time (01:00 in Helsinki): the
    offer is valid three hours, the customer's quiet hours last until 08:00 Helsinki. The offer is
    not announced after it has expired; it is switched off when it expires."""
    run = run_journey("location_offer")
    c = run.cid("traveller")
    out = run([identify(c, "2026-01-05T08:00:00Z", time_zone="Europe/Helsinki"), near(c, "2026-01-05T23:00:00Z", "nyc-1")])
    assert sent_states(out, c) == []
    assert [m["status"] for m in of(out, c, "message")] == ["deferred"]
    granted, revoked = of(out, c, "action")
    assert (revoked["type"], revoked["reason"], revoked["at"]) == ("OfferRevoked", "expired", granted["valid_until"])
    assert exits(out, c) == ["completed"]


def test_a_store_not_in_the_stores_file_sends_nothing(run_journey):
    run = run_journey("location_offer")
    c = run.cid("unknownstore")
    out = run([identify(c, "2026-01-05T08:00:00Z"), near(c, "2026-01-05T12:00:00Z", "atlantis-1")])
    assert sent_states(out, c) == [] and of(out, c, "action") == [] and exits(out, c) == ["completed"]


# ---------------------------------------------------------------- event invitation: the event's date
def custom(c, name, ts, **props):
    return event(c, "custom", ts, name=name, event_ref="pickling", **props)


def test_attendance_counts_from_the_event_date_and_the_recording_follows_the_event(run_journey):
    """Registered on 6 January for an event on 25 January: attendance on the event day is seen
    (thanks), a no-show gets the recording only after the event (not 14 days after registering)."""
    run = run_journey("event_invitation")
    comes, stays = run.cid("comes"), run.cid("stays")
    what = {"event_name": "Midwinter Pickling Workshop", "event_date": "2026-01-25"}
    lines = []
    for c in (comes, stays):
        lines += [identify(c, "2026-01-05T08:00:00Z"), custom(c, "event_invited", "2026-01-05T09:00:00Z", **what),
                  custom(c, "event_registered", "2026-01-06T10:00:00Z")]
    lines.append(custom(comes, "event_attended", "2026-01-25T16:00:00Z"))
    out = run(lines)
    assert sent_states(out, comes) == ["SendInvitation", "SendConfirmation", "SendReminder", "SendThanks"]
    assert exits(out, comes) == ["goal"]
    assert sent_states(out, stays) == ["SendInvitation", "SendConfirmation", "SendReminder", "SendRecording"]
    recording = [m for m in of(out, stays, "message") if m["state"] == "SendRecording" and m["status"] == "sent"][0]
    assert recording["at"] >= "2026-01-26"  # after the event day, not on 20 January
    assert exits(out, stays) == ["completed"]


def test_an_invitation_without_an_event_date_fails_naming_the_field(run_journey):
    run = run_journey("event_invitation")
    c = run.cid("nodate")
    out = run([identify(c, "2026-01-05T08:00:00Z"), custom(c, "event_invited", "2026-01-05T09:00:00Z")])
    assert of(out, c, "message") == []
    (ended,) = of(out, c, "exited")
    assert ended["reason"] == "failed" and "trigger.properties.event_date: required" in ended["cause"]


# ---------------------------------------------------------------- nurture: sales hears of the hand-over
def test_a_hot_lead_reaches_sales_as_an_event_on_the_sales_bus(run_journey, journey_twin):
    """What a CRM subscribed to the SalesBus receives: one LeadHandedToSales with the lead, its score
    and the run."""
    import json
    import uuid

    sqs, events = journey_twin.client("sqs"), journey_twin.client("events")
    bus = journey_twin.outputs["SalesBusName"]
    queue = sqs.create_queue(QueueName=f"crm-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rule = f"crm-{uuid.uuid4().hex[:8]}"
    events.put_rule(Name=rule, EventBusName=bus,
                    EventPattern=json.dumps({"source": ["polku.journeys"], "detail-type": ["LeadHandedToSales"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "crm", "Arn": arn}])

    run = run_journey("nurture")
    c = run.cid("hotlead")
    lines = [identify(c, "2026-01-05T08:00:00Z", first_name="Mikko"), event(c, "form_submit", "2026-01-05T09:00:00Z", form_id="lead")]
    for i in range(6):
        lines.append(event(c, "form_submit", f"2026-01-06T1{i}:00:00Z", form_id=f"download-{i}"))
    out = run(lines)
    assert sent_states(out, c)[-1] == "SendSalesIntro" and exits(out, c) == ["goal"]

    got = [json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])]
    mine = [e for e in got if e["detail"]["customer_id"] == c]
    assert len(mine) == 1, got
    ev = mine[0]
    assert (ev["source"], ev["detail-type"]) == ("polku.journeys", "LeadHandedToSales")
    d = ev["detail"]
    assert d["journey"] == "nurture" and d["threshold"] == 30 and d["lead_score"] >= 30
    assert d["contact"]["email"] == f"{c}@example.com" and d["contact"]["first_name"] == "Mikko"
    assert d["execution_id"].startswith("arn:aws:states:") and d["handoff_id"].startswith("ho_")
    assert d["handed_at"] == "2026-01-08T09:00:00.000Z"  # at the first gate, three days after the lead form
