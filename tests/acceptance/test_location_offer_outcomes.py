"""Location offer, as a marketer checks it: near an open store the customer gets STORE10 by push
or SMS at once, the ERP has the 10 % on for three hours and off when it expires; near a closed
store nothing happens."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import assert_all_delivered_outside_quiet_hours


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("location_offer")
    people = {
        "app_user": j.person("aino", first_name="Aino", prefers="push"),
        "prefers_sms": j.person("sami", first_name="Sami", prefers="sms"),
        "at_night": j.person("noora", first_name="Noora", prefers="push"),
        "new_york_evening": j.person("grace", first_name="Grace", zone=NEW_YORK, prefers="sms"),
        "new_york_early": j.person("james", first_name="James", zone=NEW_YORK, prefers="sms"),
    }
    lines = [p.identify("2026-01-05T07:00:00Z") for p in people.values()]
    for label in ("app_user", "prefers_sms"):  # 14:00 in Helsinki
        lines.append(people[label].event("location", "2026-01-05T12:00:00Z", store_id="hki-1"))
    lines.append(people["at_night"].event("location", "2026-01-05T20:00:00Z", store_id="hki-1"))  # 22:00
    # The SoHo store in New York keeps New York hours (09-21 there): open at 19:00 New York time
    # (02:00 in Helsinki), closed at 07:30 (14:30 in Helsinki).
    lines.append(people["new_york_evening"].event("location", "2026-01-06T00:00:00Z", store_id="nyc-1"))
    lines.append(people["new_york_early"].event("location", "2026-01-05T12:30:00Z", store_id="nyc-1"))
    return j.cast(people, lines)


def test_the_app_user_near_an_open_store_gets_a_push_with_the_code_at_once(cast):
    o = cast["app_user"]
    assert o.channels == ["push"], o
    push = o.messages[0]
    assert push.at == dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
    assert push.to == cast.people["app_user"].push_endpoint
    assert "STORE10" in push.subject + " " + push.text, f"the store push has no code\n{o}"
    assert o.ended == ["completed"]


def test_the_store_offer_is_on_for_three_hours_and_off_when_it_expires(cast):
    o = cast["app_user"]
    granted, revoked = o.granted(), o.revoked()
    assert [(g.code, g.discount_percent, g.validity) for g in granted] == [("STORE10", 10, dt.timedelta(hours=3))], o
    assert [(r.code, r.reason) for r in revoked] == [("STORE10", "expired")], o
    assert revoked[0].at == granted[0].valid_until


def test_the_one_who_prefers_sms_gets_the_code_by_sms(cast):
    o = cast["prefers_sms"]
    assert o.channels == ["sms"], o
    assert "STORE10" in o.messages[0].text, f"the store SMS has no code\n{o}"


def test_near_a_closed_store_nothing_happens(cast):
    o = cast["at_night"]
    assert o.messages == [] and o.not_sent == [] and o.erp == [], o
    assert o.ended == ["completed"]


def test_near_the_new_york_store_at_1900_new_york_time_the_offer_comes_at_once(cast):
    o = cast["new_york_evening"]
    assert o.channels == ["sms"], f"the New York store was judged by another clock\n{o}"
    assert "STORE10" in o.messages[0].text and o.messages[0].local.hour == 19, o
    assert [(g.code, g.validity) for g in o.granted()] == [("STORE10", dt.timedelta(hours=3))], o


def test_near_the_new_york_store_before_it_opens_nothing_happens(cast):
    o = cast["new_york_early"]
    assert o.messages == [] and o.erp == [], f"an offer for a store that is still closed\n{o}"
    assert o.ended == ["completed"]


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=3)
