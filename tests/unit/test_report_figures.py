"""Report maths on a hand-sized example (every number checked by hand)."""

from __future__ import annotations

from polku.reporting import figures, records


def _msg(mid, cid, journey, step, status, sent_at, variant="A", channel="email", **extra):
    return records.message_from_item({"message_id": mid, "customer_id": cid, "journey": journey, "step": step,
                                      "status": status, "created_at": sent_at, "sent_at": sent_at,
                                      "variant": variant, "channel": channel, "message_type": "journey", **extra})


def _ev(eid, etype, cid, ts, **props):
    return records.event_from_item({"event_id": eid, "type": etype, "customer_id": cid, "client_ts": ts,
                                    "properties": props})


def test_hand_checked_figures():
    msgs = [
        _msg("m1", "c1", "w", "First", "delivered", "2024-01-01T09:00:00Z",
             feedback={"open_at": "2024-01-01T09:10:00Z", "click_at": "2024-01-01T09:11:00Z"},
             recommended_products=["p1", "p2"], recommend_strategy="similar"),
        _msg("m2", "c2", "w", "First", "delivered", "2024-01-01T18:00:00Z", variant="B"),
        _msg("m3", "c3", "w", "First", "skipped", "2024-01-01T18:00:00Z"),
        _msg("m4", "c1", "w", "Second", "bounced", "2024-01-02T09:00:00Z", channel="sms"),
        records.message_from_item({"message_id": "n1", "customer_id": "c9", "journey": "one-off", "step": "news",
                                   "status": "sent", "created_at": "2024-01-02T10:00:00Z",
                                   "sent_at": "2024-01-02T10:00:00Z", "message_type": "newsletter"}),
    ]
    events = [
        _ev("o2", "email_open", "c2", "2024-01-01T19:00:00Z", message_id="m2"),  # pixel open only
        _ev("b1", "purchase", "c1", "2024-01-03T09:00:00Z", revenue=30),  # 2 days after c1's click
        _ev("b2", "purchase", "c1", "2024-01-20T09:00:00Z", revenue=99),  # too late
        _ev("b3", "purchase", "c4", "2024-01-02T09:00:00Z", revenue=10),  # holdout customer
    ]
    runs = [records.run_from_item(r) for r in (
        {"customer_id": "c1", "sk": "run#w", "journey": "w", "entered_at": "2024-01-01T08:00:00Z",
         "status": "exited", "exit_reason": "goal", "variant": "A", "trigger_event_id": "e1"},
        {"customer_id": "c2", "sk": "run#w", "journey": "w", "entered_at": "2024-01-01T08:00:00Z",
         "status": "running", "variant": "B", "trigger_event_id": "enr1"},
        {"customer_id": "c3", "sk": "run#w", "journey": "w", "entered_at": "2024-01-01T08:00:00Z",
         "status": "exited", "exit_reason": "completed", "variant": "A", "trigger_event_id": "w:2024-01-01T08"},
        {"customer_id": "c4", "sk": "run#w", "journey": "w", "entered_at": "2024-01-01T08:00:00Z",
         "status": "holdout", "variant": "holdout", "trigger_event_id": "e4"},
        {"customer_id": "c4", "sk": "wait#purchase#t1", "journey": "w"},
    )]
    fig = figures.compute(msgs, events, [r for r in runs if r], {"enr1"}, attribution_days=7)
    assert fig["journeys"] == ["w"]
    assert fig["funnel"]["w"] == [
        {"step": "entered", "customers": 3},
        {"step": "First", "customers": 2, "opened": 2, "clicked": 1},
        {"step": "Second", "customers": 1, "opened": 0, "clicked": 0},
    ]
    assert fig["entries"]["w"] == {"enrollment": 1, "event": 1, "holdout": 1, "schedule": 1}
    assert fig["exits"]["w"] == {"completed": 1, "goal": 1, "in progress": 1}
    assert fig["messages_by_channel_status"] == {"email": {"delivered": 2, "sent": 1, "skipped": 1}, "sms": {"bounced": 1}}
    a = next(r for r in fig["rates"] if r["variant"] == "A")
    assert (a["customers"], a["sent"], a["opened"], a["clicked"], a["converted"]) == (1, 2, 1, 1, 1)
    assert a["open_rate"] == 0.5 and a["conversion_rate"] == 1.0
    assert fig["holdout_lift"] == [{"journey": "w", "treated_customers": 2, "treated_conversion_rate": 0.5,
                                    "holdout_customers": 1, "holdout_conversion_rate": 1.0, "lift": -0.5}]
    assert fig["revenue_after_click"]["by_journey"] == {"w": 30.0} and fig["revenue_after_click"]["orders"] == 1
    assert fig["volume_by_day"] == [{"day": "2024-01-01", "journey": 2, "one_off": 0, "campaign": 0},
                                    {"day": "2024-01-02", "journey": 1, "one_off": 1, "campaign": 0}]
    assert fig["send_hours"]["email"][9] == 1 and fig["send_hours"]["email"][18] == 1
    assert fig["send_hours"]["email"][10] == 1 and fig["send_hours"]["sms"][9] == 1
    assert fig["recommendations"]["by_strategy"] == {"similar": {"messages": 1, "items_shown": 2, "clicked": 1,
                                                                 "ctr": 1.0}}
    assert fig["totals"]["one_off_messages"] == 1 and fig["totals"]["purchases"] == 3
    assert figures.summary_lines(fig) == [
        "w: entered 3, messages sent 3, opened 67%, clicked 33%, converted 50%, revenue after click 30.00; "
        "exits: completed 1, goal 1, in progress 1"
    ]
