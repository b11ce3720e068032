"""Tracking events -> interactions (training) and one customer's history (serving)."""

import datetime as dt

import pytest

from polku.recommend.customer_history import history_from_events, interactions_from_events

NOW = dt.datetime(2026, 1, 10, 10, tzinfo=dt.timezone.utc)


def ev(kind, day, props, eid=None):
    return {"event_id": eid or f"{kind}-{day}-{props}", "subject": "c#1", "type": kind,
            "client_ts": f"2026-01-{day:02d}T10:00:00Z", "properties": props}


EVENTS = [
    ev("product_view", 1, {"product_id": "A"}),
    ev("purchase", 1, {"order_id": "o1", "items": [{"product_id": "A"}, {"product_id": "B"}]}),
    ev("purchase", 5, {"order_id": "o2", "items": [{"product_id": "A"}]}),
    ev("product_view", 9, {"product_id": "C"}),
    ev("add_to_cart", 10, {"product_id": "D"}),
    ev("page_view", 10, {"url": "/"}),
]


def test_history_weights_orders_by_recency_and_keeps_viewed_not_bought():
    h = history_from_events(EVENTS, now=NOW)
    assert h.purchased["A"] == pytest.approx(1.0 + 0.5 ** (1 / 5))  # latest order + the one before
    assert h.purchased["B"] == pytest.approx(0.5 ** (1 / 5))
    assert set(h.viewed) == {"C", "D"}  # A was viewed, then bought
    assert h.viewed["C"] == pytest.approx(0.5 ** (1 / 7))  # one day old
    assert h.viewed["D"] > h.viewed["C"]  # a cart counts more and is newer


def test_viewing_again_after_buying_is_a_reminder():
    h = history_from_events(EVENTS + [ev("product_view", 10, {"product_id": "B"})], now=NOW)
    assert "B" in h.viewed


def test_interactions_from_events_weights_and_baskets():
    inter = interactions_from_events(EVENTS)
    assert len(inter) == 6  # page_view ignored; purchase o1 has two items
    rows = sorted(zip((inter.item_ids[i] for i in inter.item), inter.weight.tolist()))
    assert rows == [("A", 1.0), ("A", 4.0), ("A", 4.0), ("B", 4.0), ("C", 1.0), ("D", 2.0)]
    assert len(set(inter.basket.tolist())) == 5  # o1, o2, day 1 views, day 9, day 10


def test_profile_fields_are_read_tolerantly_and_events_win():
    from polku.recommend.customer_history import PROFILE_WEIGHT, merge_profile

    h = history_from_events(EVENTS, now=NOW)
    merged = merge_profile(h, {"customer_id": "1", "traits": {"recently_viewed": [{"product_id": "Z"}, "A"]},
                               "purchased": {"A": 3, "Q": 1}, "counts": {"purchase": 2}})
    assert merged.purchased["Q"] == PROFILE_WEIGHT
    assert merged.purchased["A"] == pytest.approx(1.0 + 0.5 ** (1 / 5))  # the events' figure stays
    assert merged.viewed["Z"] == PROFILE_WEIGHT and "A" not in merged.viewed  # bought: not a reminder
    assert merge_profile(h, None) is h
