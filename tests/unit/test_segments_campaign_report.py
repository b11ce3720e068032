"""The report's campaign figures on a hand-sized example: one-off volume per day and month beside journey
volume, each campaign's opens, clicks, conversions per variant, and the holdout's lift."""

from __future__ import annotations

from polku.reporting import figures, records


def _msg(mid, cid, journey, status, sent_at, variant="A", message_type="newsletter", **extra):
    return records.message_from_item({"message_id": mid, "customer_id": cid, "journey": journey, "step": "send",
                                      "status": status, "created_at": sent_at, "sent_at": sent_at, "variant": variant,
                                      "channel": "email", "message_type": message_type, **extra})


def _ev(eid, etype, cid, ts, **props):
    return records.event_from_item({"event_id": eid, "type": etype, "customer_id": cid, "client_ts": ts,
                                    "properties": props})


def _held(cid, at="2026-04-14T06:00:00.000Z"):
    return records.run_from_item({"customer_id": cid, "sk": "campaign#spring#r1", "journey": "campaign:spring",
                                  "status": "holdout", "variant": "holdout", "entered_at": at})


def test_campaign_figures_and_one_off_volume():
    msgs = [
        _msg("s1", "a", "campaign:spring", "sent", "2026-04-14T06:00:00Z", "A", feedback={"open_at": "2026-04-14T07:00:00Z"}),
        _msg("s2", "b", "campaign:spring", "delivered", "2026-04-14T06:00:00Z", "B"),
        _msg("s3", "c", "campaign:spring", "sent", "2026-04-14T13:00:00Z", "B"),
        _msg("s4", "d", "campaign:spring", "skipped", "2026-04-14T06:00:00Z", "A"),
        _msg("j1", "a", "welcome", "sent", "2026-04-14T08:00:00Z", message_type="journey"),
        _msg("j2", "e", "welcome", "sent", "2026-05-02T08:00:00Z", message_type="journey"),
        _msg("n1", "e", "one-off", "sent", "2026-05-02T09:00:00Z"),
    ]
    events = [
        _ev("c1", "email_click", "b", "2026-04-14T06:30:00Z", message_id="s2"),  # a click is an open too
        _ev("p1", "purchase", "b", "2026-04-15T10:00:00Z", revenue=20),  # converted (B)
        _ev("p2", "purchase", "a", "2026-04-30T10:00:00Z", revenue=20),  # after the 7 days
        _ev("p3", "purchase", "h1", "2026-04-16T10:00:00Z", revenue=9),  # a holdout customer bought
        _ev("p4", "purchase", "h2", "2026-04-13T10:00:00Z", revenue=9),  # before the campaign: not counted
    ]
    runs = [_held("h1"), _held("h2"), _held("h3"), _held("h4")]
    fig = figures.compute(msgs, events, runs)

    assert msgs[0].journey is None and msgs[0].campaign == "spring"  # campaign messages are one-off
    assert "campaign:spring" not in fig["journeys"]  # and no journey
    assert fig["totals"]["campaign_messages"] == 4 and fig["totals"]["one_off_messages"] == 5
    assert fig["volume_by_day"] == [
        {"day": "2026-04-14", "journey": 1, "one_off": 3, "campaign": 3},
        {"day": "2026-05-02", "journey": 1, "one_off": 1, "campaign": 0}]
    assert fig["volume_by_month"] == [
        {"month": "2026-04", "journey": 1, "one_off": 3, "campaign": 3},
        {"month": "2026-05", "journey": 1, "one_off": 1, "campaign": 0}]

    [spring] = fig["campaigns"]
    assert {k: spring[k] for k in ("campaign", "customers", "sent", "opened", "clicked", "converted")} == {
        "campaign": "spring", "customers": 3, "sent": 3, "opened": 2, "clicked": 1, "converted": 1}
    assert spring["variants"]["A"]["sent"] == 1 and spring["variants"]["A"]["converted"] == 0
    assert spring["variants"]["B"] == {"customers": 2, "sent": 2, "opened": 1, "clicked": 1, "converted": 1,
                                       "open_rate": 0.5, "click_rate": 0.5, "conversion_rate": 0.5}
    assert (spring["holdout_customers"], spring["holdout_converted"]) == (4, 1)
    assert spring["conversion_rate"] == 0.3333 and spring["holdout_conversion_rate"] == 0.25
    assert spring["lift"] == round(0.3333 / 0.25 - 1, 4)


def test_a_campaign_without_holdout_has_no_lift_and_other_state_items_are_not_runs():
    fig = figures.compute([_msg("s1", "a", "campaign:x", "sent", "2026-04-14T06:00:00Z")], [], [])
    assert fig["campaigns"][0]["holdout_customers"] == 0 and fig["campaigns"][0]["lift"] is None
    assert records.run_from_item({"customer_id": "a", "sk": "offer#o1", "status": "granted"}) is None
    run = _held("h1")
    assert (run.journey, run.status, run.customer_id) == ("campaign:spring", "holdout", "h1")
