"""Win-back, as a marketer checks it: a lapsed customer gets "we miss you", then 10 % (WB10), then
20 % (WB20) -- three different mails at good local times, also in New York -- and the ERP has each
discount on for its week while its mail is read, off when it expires or at once when they buy."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import (
    assert_all_delivered_outside_quiet_hours,
    assert_no_shared_subjects,
    in_quiet_hours_violations,
)

UTC = dt.timezone.utc
WEEK = dt.timedelta(days=7)


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("win_back")
    people = {
        "ignores": j.person("aino", first_name="Aino"),
        "new_york": j.person("grace", first_name="Grace", zone=NEW_YORK),
        "comes_back": j.person("mikko", first_name="Mikko"),
        "prefers_sms": j.person("sami", first_name="Sami", prefers="sms"),
        "still_active": j.person("eero", first_name="Eero"),
    }

    def purchase(p, ts):
        return p.event("purchase", ts, order_id=f"o-{p.cid}-{ts}", revenue=25,
                       items=[{"product_id": "p7", "quantity": 1, "price": 25}])

    lines = []
    for p in people.values():
        lines += [p.identify("2025-10-01T08:00:00Z"), purchase(p, "2025-10-01T09:00:00Z")]
    lines.append(purchase(people["still_active"], "2025-11-25T09:00:00Z"))
    lines.append(purchase(people["comes_back"], "2025-12-10T12:00:00Z"))  # while 10 % is on
    return j.cast(people, lines, until="2025-12-01T10:00:00Z")


def offer_mails(o):
    return [m for m in o.messages if "WB10" in m.content or "WB20" in m.content]


def test_the_lapsed_customer_gets_three_different_mails_the_offers_with_their_codes(cast):
    o = cast["ignores"]
    assert o.channels == ["email"] * 3, o
    first, ten, twenty = o.messages
    assert len(set(o.subjects)) == 3, o
    assert "WB10" not in first.content and "WB20" not in first.content
    assert "WB10" in ten.content and "WB20" in twenty.content, o
    assert "Aino" in first.content
    assert o.ended == ["completed"]


def test_each_discount_is_on_for_a_week_while_its_mail_is_read_and_off_when_it_expires(cast):
    o = cast["ignores"]
    granted, revoked = o.granted(), o.revoked()
    assert [(g.code, g.discount_percent, g.validity) for g in granted] == [("WB10", 10, WEEK), ("WB20", 20, WEEK)], o
    assert [(r.code, r.reason) for r in revoked] == [("WB10", "expired"), ("WB20", "expired")], o
    for mail, g, r in zip(o.messages[1:], granted, revoked):
        assert g.valid_from <= mail.at < g.valid_until, f"{mail.subject!r} went out while {g.code} was off"
        assert r.at == g.valid_until, f"{g.code} switched off at {r.at}, valid until {g.valid_until}"


def test_a_new_york_customer_gets_all_three_mails_in_new_york_daytime(cast):
    o = cast["new_york"]
    assert o.not_sent == [], f"messages lost to quiet hours\n{o}"
    assert len(o.messages) == 3 and in_quiet_hours_violations(o) == [], o
    for mail, g in zip(o.messages[1:], o.granted()):
        assert g.valid_from <= mail.at < g.valid_until, f"{mail.subject!r} went out while {g.code} was off\n{o}"


def test_a_purchase_with_the_10_percent_on_ends_it_as_a_goal_and_no_20_percent_follows(cast):
    o = cast["comes_back"]
    assert [(e.type, e.code) for e in o.erp] == [("OfferGranted", "WB10"), ("OfferRevoked", "WB10")], o
    r = o.revoked()[0]
    assert r.reason == "goal" and r.at == dt.datetime(2025, 12, 10, 12, 0, tzinfo=UTC), o
    assert len(o.messages) == 2 and o.ended == ["goal"], o


def test_the_one_who_prefers_sms_gets_both_codes_by_sms(cast):
    o = cast["prefers_sms"]
    assert o.channels == ["sms"] * 3, o
    assert "WB10" in o.messages[1].text and "WB20" in o.messages[2].text, f"an offer SMS without its code\n{o}"


def test_a_customer_who_is_still_active_hears_nothing(cast):
    o = cast["still_active"]
    assert o.messages == [] and o.erp == [] and o.ended == [], o


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=11)


def test_no_two_steps_share_a_subject(cast):
    assert_no_shared_subjects(cast, at_least=11)
