"""Instacart order history -> realistic, valid, deterministic sessions."""

import datetime as dt

from polku.tracking.instacart_sessions import order_times, orders_by_user, sessions, synthetic_price
from polku.tracking.validation import validate

END = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
HEADER = "order_id,user_id,order_number,order_dow,order_hour_of_day,days_since_prior_order,product_id,add_to_cart_order,reordered"
ROWS_TEXT = """\
10,1,1,2,8,,196,1.0,0.0
10,1,1,2,8,,14084,2.0,0.0
11,1,2,3,7,15.0,196,1.0,1.0
12,1,3,3,12,21.0,12427,2.0,0.0
12,1,3,3,12,21.0,196,1.0,1.0
20,2,1,5,9,,46149,1.0,0.0
"""


def rows():
    keys = HEADER.split(",")
    return [dict(zip(keys, line.split(","))) for line in ROWS_TEXT.splitlines()]


def test_timeline_follows_order_sequence_weekday_and_hour():
    orders = orders_by_user(rows())["1"]
    times = order_times(orders, END)
    assert times == sorted(times) and times[-1] <= END
    assert END - times[-1] <= dt.timedelta(days=8)
    for o, t in zip(orders, times):
        assert t.hour == o.hour
        assert (t.weekday() + 1) % 7 == o.dow  # Instacart 0 = Sunday
    gaps = [(b - a).days for a, b in zip(times, times[1:])]
    assert all(abs(g - want) <= 3 for g, want in zip(gaps, (15, 21)))


def test_sessions_are_valid_events_in_a_realistic_order():
    out = sessions(rows(), END)
    assert [s.order_id for s in out if s.user_id == "1"] == ["10", "11", "12"]
    first = next(s for s in out if s.order_id == "10")
    types = [e["type"] for e in first.events]
    assert types == ["page_view", "product_view", "add_to_cart", "product_view", "add_to_cart",
                     "checkout_started", "purchase"]
    assert first.identify["customer_id"] == "ic-1" and first.identify_before == 5
    assert all("customer_id" not in e for e in first.events[:5])
    assert all(e["customer_id"] == "ic-1" for e in first.events[5:])
    purchase = first.events[-1]["properties"]
    assert [i["product_id"] for i in purchase["items"]] == ["196", "14084"]  # add-to-cart order
    assert purchase["revenue"] == round(synthetic_price("196") + synthetic_price("14084"), 2)
    for s in out:
        stamps = [e["ts"] for e in s.events]
        assert stamps == sorted(stamps)
        for e in s.events:
            validate(e, END)


def test_deterministic():
    a, b = sessions(rows(), END), sessions(list(reversed(rows())), END)
    assert [s.events for s in a] == [s.events for s in b]


def test_real_data_sample_validates():
    from polku.demo.instacart_data import instacart_rows

    sample = instacart_rows(3000)
    out = sessions(sample, END)
    assert len(out) > 50
    for s in out:
        for e in s.events:
            validate(e, END)
