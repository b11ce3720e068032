"""Birthday, as a marketer checks it: a greeting by name with the BDAY20 code at a good local
time, the 20 % discount switched on in the ERP for a week and off when it expires -- or at once,
with reason goal, when they buy."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import assert_all_delivered_outside_quiet_hours, date_shown, in_quiet_hours_violations

UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("birthday")
    people = {
        "ignores": j.person("aino", first_name="Aino", birthday="1990-01-06"),
        "buys": j.person("mikko", first_name="Mikko", birthday="1985-01-06"),
        "new_york": j.person("grace", first_name="Grace", zone=NEW_YORK, birthday="1992-01-06"),
        "prefers_sms": j.person("sami", first_name="Sami", prefers="sms", birthday="1979-01-06"),
        "not_today": j.person("eero", first_name="Eero", birthday="1990-03-01"),
    }
    lines = [p.identify("2026-01-05T07:00:00Z") for p in people.values()]
    lines.append(people["buys"].event("purchase", "2026-01-08T12:00:00Z", order_id="o-bday", revenue=30,
                                      items=[{"product_id": "p1", "quantity": 1, "price": 30}]))
    return j.cast(people, lines, until="2026-01-07T00:00:00Z")


def test_the_birthday_greeting_is_by_name_with_the_code_and_its_expiry_in_daytime(cast):
    o = cast["ignores"]
    assert o.channels == ["email"], o
    m = o.messages[0]
    assert m.local.date() == dt.date(2026, 1, 6) and not in_quiet_hours_violations(o), o
    assert "Aino" in m.content and "BDAY20" in m.content, o
    until = o.granted()[0].valid_until.astimezone(o.zone).date()
    assert date_shown(until, m.text), f"the mail does not say until when the code works ({until})\n{o}"


def test_the_birthday_discount_is_on_for_a_week_and_off_exactly_when_it_expires(cast):
    o = cast["ignores"]
    granted, revoked = o.granted(), o.revoked()
    assert [(g.code, g.discount_percent, g.validity) for g in granted] == [("BDAY20", 20, dt.timedelta(days=7))], o
    assert granted[0].valid_from <= o.messages[0].at < granted[0].valid_until
    assert [(r.code, r.reason) for r in revoked] == [("BDAY20", "expired")], o
    assert revoked[0].at == granted[0].valid_until, f"revoked at {revoked[0].at}, valid until {granted[0].valid_until}"
    assert o.ended == ["completed"]


def test_a_purchase_switches_the_discount_off_at_once_with_reason_goal(cast):
    o = cast["buys"]
    assert [(e.type, e.code) for e in o.erp] == [("OfferGranted", "BDAY20"), ("OfferRevoked", "BDAY20")], o
    revoked = o.revoked()[0]
    assert revoked.at == dt.datetime(2026, 1, 8, 12, 0, tzinfo=UTC), o
    assert revoked.reason == "goal", f"the ERP hears 'expired' for a discount that was used\n{o}"
    assert o.ended == ["goal"]


def test_a_new_york_birthday_is_greeted_in_new_york_daytime(cast):
    o = cast["new_york"]
    assert len(o.messages) == 1 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o  # the scheduler ticks at 08:00 UTC = 03:00 in New York
    assert o.messages[0].local.date() == dt.date(2026, 1, 6)


def test_the_one_who_prefers_sms_gets_the_code_by_sms(cast):
    o = cast["prefers_sms"]
    assert o.channels == ["sms"], o
    assert "BDAY20" in o.messages[0].text, f"the birthday SMS has no code\n{o}"


def test_no_greeting_when_it_is_not_their_birthday(cast):
    o = cast["not_today"]
    assert o.messages == [] and o.erp == [] and o.ended == [], o


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=4)
