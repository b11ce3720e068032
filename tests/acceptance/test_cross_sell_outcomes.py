"""Cross-sell after a purchase, as a marketer checks it: one mail, 3 days (A) or a week (B) after
the purchase, at a good local time; the variants' mails differ; a repeat purchase is the goal."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import (
    assert_all_delivered_outside_quiet_hours,
    in_quiet_hours_violations,
    plain,
    without_links,
)

PAN = "Cast Iron Pan 26 cm"
BOUGHT = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def cast(journey, catalogue):
    ids = catalogue({PAN: 39.0}, category="kitchen")
    j = journey("cross_sell")
    people = {
        "ignores_a": j.person("aino", first_name="Aino", variant="A"),
        "ignores_b": j.person("aino", first_name="Aino", variant="B"),
        "buys_again": j.person("mikko", first_name="Mikko", variant="A"),
        "night_2330": j.person("noora", first_name="Noora", variant="A"),
        "new_york": j.person("grace", first_name="Grace", zone=NEW_YORK, variant="A"),
    }

    def purchase(p, ts, n=1):
        return p.event("purchase", ts, order_id=f"o-{p.cid}-{n}", revenue=39.0,
                       items=[{"product_id": ids[PAN], "quantity": 1, "price": 39.0}])

    lines = [p.identify("2026-01-05T07:00:00Z") for p in people.values()]
    for label in ("ignores_a", "ignores_b", "buys_again"):
        lines.append(purchase(people[label], "2026-01-05T10:00:00Z"))  # 12:00 in Helsinki
    lines.append(purchase(people["buys_again"], "2026-01-10T10:00:00Z", 2))
    lines.append(purchase(people["night_2330"], "2026-01-05T21:30:00Z"))  # 23:30 in Helsinki
    lines.append(purchase(people["new_york"], "2026-01-06T01:30:00Z"))  # 20:30 in New York
    return j.cast(people, lines)


def test_variant_a_writes_once_three_days_after_the_purchase(cast):
    o = cast["ignores_a"]
    assert o.channels == ["email"], o
    assert dt.timedelta(days=3) <= o.messages[0].at - BOUGHT <= dt.timedelta(days=4), o
    assert o.messages[0].subject and "Aino" in o.messages[0].content
    assert o.ended == ["completed"]


def test_variant_b_writes_once_a_week_after_the_purchase(cast):
    o = cast["ignores_b"]
    assert o.channels == ["email"], o
    assert dt.timedelta(days=7) <= o.messages[0].at - BOUGHT <= dt.timedelta(days=8), o


def test_the_variants_send_different_mails(cast):
    a, b = cast["ignores_a"].messages, cast["ignores_b"].messages
    assert len(a) == len(b) == 1, (cast["ignores_a"], cast["ignores_b"])
    assert (a[0].subject, plain(without_links(a[0].text))) != (b[0].subject, plain(without_links(b[0].text))), \
        "A and B get the same mail: the split measures only the delay"


def test_a_repeat_purchase_is_the_goal(cast):
    o = cast["buys_again"]
    assert len(o.messages) == 1 and o.ended == ["goal"], o


def test_a_purchase_at_2330_is_followed_up_in_daytime(cast):
    o = cast["night_2330"]
    assert len(o.messages) == 1 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o


def test_a_new_york_buyer_hears_from_us_in_new_york_daytime(cast):
    o = cast["new_york"]
    assert len(o.messages) == 1 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=5)
