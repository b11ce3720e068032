"""Browse abandonment, as a marketer checks it: one reminder that shows the product they looked
at, at a good local time; nothing for someone who put it in the cart."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import assert_all_delivered_outside_quiet_hours, in_quiet_hours_violations, price_shown

SOCKS = "Merino Wool Socks"


@pytest.fixture(scope="module")
def cast(journey, catalogue):
    ids = catalogue({SOCKS: 14.9}, category="clothing")
    j = journey("browse_abandonment")
    people = {
        "ignores": j.person("aino", first_name="Aino"),
        "adds_to_cart": j.person("mikko", first_name="Mikko"),
        "new_york_night": j.person("grace", first_name="Grace", zone=NEW_YORK),
        "prefers_sms": j.person("sami", first_name="Sami", prefers="sms"),
    }
    lines = [p.identify("2026-01-05T07:00:00Z") for p in people.values()]
    for label in ("ignores", "adds_to_cart", "prefers_sms"):  # 11:00 in Helsinki
        lines.append(people[label].event("product_view", "2026-01-05T09:00:00Z", product_id=ids[SOCKS], price=14.9))
    lines.append(people["adds_to_cart"].event("add_to_cart", "2026-01-05T10:00:00Z", product_id=ids[SOCKS],
                                              quantity=1, price=14.9))
    lines.append(people["new_york_night"].event("product_view", "2026-01-06T03:00:00Z", product_id=ids[SOCKS],
                                                price=14.9))  # 22:00 in New York
    return j.cast(people, lines)


def test_the_one_who_only_looked_gets_one_reminder_showing_that_product(cast):
    o = cast["ignores"]
    assert o.channels == ["email"], o
    m = o.messages[0]
    assert SOCKS in m.content, f"the reminder does not show the viewed product\n{o}"
    assert price_shown(14.9, m.content), o
    assert "Aino" in m.content
    assert o.ended == ["completed"]


def test_the_one_who_adds_it_to_the_cart_gets_nothing_and_that_is_the_goal(cast):
    o = cast["adds_to_cart"]
    assert o.messages == [] and o.ended == ["goal"], o


def test_a_new_york_night_browser_is_reminded_in_new_york_daytime_showing_the_product(cast):
    o = cast["new_york_night"]
    assert len(o.messages) == 1 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o
    assert SOCKS in o.messages[0].content, o


def test_the_one_who_prefers_sms_is_reminded_by_sms(cast):
    o = cast["prefers_sms"]
    assert o.channels == ["sms"], o
    assert o.messages[0].to == cast.people["prefers_sms"].phone


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=3)
