"""The profile fold: order-independent, redelivery-proof, every documented field."""

import copy
import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from polku.tracking import lead_score
from polku.tracking.profile_builder import apply_event, build, current_lead_score, hour_of_week, new_profile


def ev(n, etype, ts, **props):
    return {"event_id": f"e{n}", "type": etype, "client_ts": ts, "ts": f"{ts}#e{n}", "customer_id": "c1",
            "anonymous_id": "a1", "properties": props}


HISTORY = [
    ev(1, "page_view", "2026-01-05T08:00:00.000Z", url="/"),
    ev(2, "product_view", "2026-01-05T08:01:00.000Z", product_id="p1"),
    ev(3, "product_view", "2026-01-05T08:02:00.000Z", product_id="p2", category="tea"),
    ev(4, "add_to_cart", "2026-01-05T08:03:00.000Z", product_id="p2", quantity=1),
    ev(5, "purchase", "2026-01-05T08:05:00.000Z", order_id="o1", revenue=19.9,
       items=[{"product_id": "p2", "quantity": 2, "price": 9.95}]),
    ev(6, "email_open", "2026-01-06T18:30:00.000Z", message_id="m1"),
    ev(7, "email_click", "2026-01-07T07:10:00.000Z", message_id="m1", url="/x", channel="sms"),
    ev(8, "location", "2026-01-07T09:00:00.000Z", store_id="hki-1"),
    ev(9, "identify", "2026-01-05T08:04:00.000Z",
       traits={"email": "a@b.fi", "preferred_channel": "sms", "consents": {"email": True, "sms": True}}),
    ev(10, "unsubscribe", "2026-01-08T10:00:00.000Z", channel="email"),
    ev(11, "purchase", "2026-01-09T10:00:00.000Z", order_id="o2", revenue=0.1,
       items=[{"product_id": "p1", "quantity": 1, "price": 0.1}]),
]
CATALOG = {"p1": "coffee", "p2": "tea-from-catalog"}


def built(events):
    return build("c1", events, category_of=CATALOG.get)


def test_fields_from_a_history():
    p = built(HISTORY)
    assert p["first_seen"] == "2026-01-05T08:00:00.000Z" and p["last_seen"] == "2026-01-09T10:00:00.000Z"
    assert p["counts"]["product_view"] == 2 and p["counts"]["purchase"] == 2
    assert [v["product_id"] for v in p["recently_viewed"]] == ["p2", "p1"]
    assert p["purchased"] == {"p2": {"quantity": 2, "last_ts": "2026-01-05T08:05:00.000Z"},
                              "p1": {"quantity": 1, "last_ts": "2026-01-09T10:00:00.000Z"}}
    assert p["orders"] == 2 and p["revenue"] == 20.0
    # property category wins over the catalogue; the catalogue fills in the rest
    assert p["category_affinity"] == {"coffee": 1 + 5, "tea": 1, "tea-from-catalog": 3 + 5}
    assert p["open_hours"] == {str(1 * 24 + 18): 1}  # Tuesday 18:xx UTC
    assert p["click_hours"] == {str(2 * 24 + 7): 1}
    assert p["last_read"] == {"channel": "sms", "ts": "2026-01-07T07:10:00.000Z"}
    assert p["preferred_channel"] == "sms" and p["traits"]["email"] == "a@b.fi"
    assert p["consents"]["email"]["granted"] is False  # the later unsubscribe wins
    assert p["consents"]["sms"]["granted"] is True
    assert p["last_location"] == {"store_id": "hki-1", "ts": "2026-01-07T09:00:00.000Z"}
    assert p["anonymous_ids"] == ["a1"]


def test_redelivered_event_changes_nothing():
    p = built(HISTORY)
    before = copy.deepcopy(p)
    assert apply_event(p, HISTORY[4], category_of=CATALOG.get) is False
    assert p == before


@settings(max_examples=60, deadline=None)
@given(st.permutations(HISTORY))
def test_any_delivery_order_gives_the_same_profile(order):
    a, b = built(HISTORY), new_profile("c1")
    for e in order:
        apply_event(b, e, category_of=CATALOG.get)
    assert abs(a.pop("lead_score") - b.pop("lead_score")) < 1e-4
    a.pop("applied"), b.pop("applied")
    assert a == b


def test_lead_score_decays_with_half_life():
    rules = lead_score.LeadScoreRules.from_json('{"half_life_days": 7, "points": {"purchase": 40}}')
    p = build("c1", [ev(1, "purchase", "2026-01-01T00:00:00.000Z", order_id="o", revenue=1,
                         items=[{"product_id": "x", "quantity": 1, "price": 1}])], rules=rules)
    assert p["lead_score"] == 40
    week_later = dt.datetime(2026, 1, 8, tzinfo=dt.timezone.utc)
    assert abs(current_lead_score(p, week_later, rules) - 20) < 1e-9


def test_lead_score_is_order_independent():
    rules = lead_score.LeadScoreRules()
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    t1 = t0 + dt.timedelta(days=14)
    v1, a1 = lead_score.add(0, None, "purchase", t0, rules)
    v1, a1 = lead_score.add(v1, a1, "add_to_cart", t1, rules)
    v2, a2 = lead_score.add(0, None, "add_to_cart", t1, rules)
    v2, a2 = lead_score.add(v2, a2, "purchase", t0, rules)
    assert a1 == a2 == t1 and abs(v1 - v2) < 1e-9 and abs(v1 - (10 + 5)) < 1e-9


def test_hour_of_week_starts_monday_midnight_utc():
    assert hour_of_week(dt.datetime(2026, 1, 5, 0, 30, tzinfo=dt.timezone.utc)) == 0  # a Monday
    assert hour_of_week(dt.datetime(2026, 1, 11, 23, 0, tzinfo=dt.timezone.utc)) == 167


def test_decimal_numbers_from_the_stream_are_accepted():
    from decimal import Decimal

    e = ev(1, "purchase", "2026-01-05T08:05:00.000Z", order_id="o1", revenue=Decimal("5.5"),
           items=[{"product_id": "p2", "quantity": Decimal("2"), "price": Decimal("2.75")}])
    p = build("c1", [e])
    assert p["revenue"] == 5.5 and p["purchased"]["p2"]["quantity"] == 2
