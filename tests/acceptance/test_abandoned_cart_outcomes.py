"""Abandoned cart, as a marketer checks it: who gets which mail or SMS, when (local time), showing
which cart and which code, and what the ERP is told about the 15 % discount."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import (
    assert_all_delivered_outside_quiet_hours,
    assert_no_shared_subjects,
    in_quiet_hours_violations,
    price_shown,
)

RYE, JAM = "Nordic Rye Crispbread", "Cloudberry Jam"
PRICES = {RYE: 3.9, JAM: 6.5}


@pytest.fixture(scope="module")
def cast(journey, catalogue):
    ids = catalogue(PRICES)
    j = journey("abandoned_cart")
    people = {
        "ignores": j.person("aino", first_name="Aino"),
        "converts": j.person("mikko", first_name="Mikko"),
        "buys_with_code": j.person("liisa", first_name="Liisa"),
        "prefers_sms": j.person("sami", first_name="Sami", prefers="sms"),
        "night_2330": j.person("noora", first_name="Noora"),
        "new_york": j.person("grace", first_name="Grace", zone=NEW_YORK),
        "reads_at_night": j.person("yrjo", first_name="Yrjö"),
        "unsubscribes": j.person("pekka", first_name="Pekka"),
        "reads_finnish": j.person("ville", first_name="Ville", locale="fi"),
        "reads_czech": j.person("jana", first_name="Jana", zone="Europe/Prague", locale="cs"),
    }
    lines = []

    def cart(p, ts):  # two lines in the cart, a minute apart
        lines.append(p.event("add_to_cart", ts, product_id=ids[RYE], quantity=1, price=PRICES[RYE]))
        lines.append(p.event("add_to_cart", ts.replace(":00Z", ":30Z"), product_id=ids[JAM], quantity=2,
                             price=PRICES[JAM]))

    for p in people.values():
        lines.append(p.identify("2026-01-01T07:00:00Z"))
    for label in ("ignores", "converts", "buys_with_code", "prefers_sms"):
        cart(people[label], "2026-01-05T10:00:00Z")  # 12:00 in Helsinki
    cart(people["night_2330"], "2026-01-05T21:30:00Z")  # 23:30 in Helsinki
    cart(people["new_york"], "2026-01-06T01:30:00Z")  # 20:30 in New York
    night_reader = people["reads_at_night"]
    for day in range(1, 5):  # opens our mails at 22:30 in Helsinki, night after night
        lines.append(night_reader.event("email_open", f"2026-01-0{day}T20:30:00Z", message_id=f"m-old-{day}"))
    cart(night_reader, "2026-01-05T10:00:00Z")
    cart(people["unsubscribes"], "2026-01-05T10:00:00Z")
    cart(people["reads_finnish"], "2026-01-05T10:00:00Z")
    cart(people["reads_czech"], "2026-01-05T10:00:00Z")
    lines.append(people["unsubscribes"].event("unsubscribe", "2026-01-07T08:00:00Z", channel="email"))
    lines.append(people["converts"].event("purchase", "2026-01-06T10:00:00Z", order_id="o-mikko", revenue=16.9,
                                          items=[{"product_id": ids[RYE], "quantity": 1, "price": 3.9}]))
    lines.append(people["buys_with_code"].event("purchase", "2026-01-08T08:00:00Z", order_id="o-liisa", revenue=16.9,
                                                items=[{"product_id": ids[RYE], "quantity": 1, "price": 3.9}]))
    return j.cast(people, lines)


def shows_the_cart(content: str) -> bool:
    return all(name in content for name in PRICES) and all(price_shown(p, content) for p in PRICES.values())


def test_the_one_who_ignores_gets_a_reminder_then_the_discount_both_by_mail_with_the_cart(cast):
    o = cast["ignores"]
    assert o.channels == ["email", "email"], o
    reminder, discount = o.messages
    for m in (reminder, discount):
        assert shows_the_cart(m.content), f"cart lines (names and prices) missing from {m.subject!r}\n{o}"
        assert "Aino" in m.content
    assert "CART15" not in reminder.content and "CART15" in discount.content, o
    assert "15" in discount.subject + discount.text, "the discount mail says how much off"
    assert reminder.subject != discount.subject, o
    assert o.ended == ["completed"]


def test_the_discount_is_on_in_the_erp_for_48_hours_around_its_mail_and_off_when_it_expires(cast):
    o = cast["ignores"]
    granted, revoked = o.granted(), o.revoked()
    assert [(g.code, g.discount_percent, g.validity) for g in granted] == [("CART15", 15, dt.timedelta(hours=48))], o
    discount = o.messages[-1]
    assert granted[0].valid_from <= discount.at < granted[0].valid_until, "the mail goes out while the code works"
    assert [(r.code, r.reason) for r in revoked] == [("CART15", "expired")], o
    assert revoked[0].at == granted[0].valid_until, "switched off when it expires, not before or after"


def test_the_one_who_buys_after_the_reminder_gets_nothing_more_and_no_discount(cast):
    o = cast["converts"]
    assert len(o.messages) == 1 and shows_the_cart(o.messages[0].content), o
    assert o.erp == [] and o.ended == ["goal"], o


def test_buying_while_the_discount_is_on_switches_it_off_as_a_goal(cast):
    o = cast["buys_with_code"]
    assert [(e.type, e.code) for e in o.erp] == [("OfferGranted", "CART15"), ("OfferRevoked", "CART15")], o
    revoked = o.revoked()[0]
    assert revoked.reason == "goal" and revoked.at == dt.datetime(2026, 1, 8, 8, 0, tzinfo=dt.timezone.utc), o
    assert o.ended == ["goal"]


def test_unsubscribing_while_the_discount_is_on_stops_the_run_and_switches_the_discount_off(cast):
    o = cast["unsubscribes"]
    assert len(o.messages) == 2 and o.ended == ["stopped"], o
    assert [(r.code, r.reason, r.at) for r in o.revoked()] == [
        ("CART15", "stopped", dt.datetime(2026, 1, 7, 8, 0, tzinfo=dt.timezone.utc))], o


@pytest.mark.parametrize("label", ["reads_finnish", "reads_czech"])
def test_a_customer_reading_another_language_gets_both_mails_in_it_with_the_cart_and_the_code(cast, label):
    o = cast[label]
    english = cast["ignores"]
    assert len(o.messages) == 2 and o.not_sent == [], o
    for mine, theirs in zip(o.messages, english.messages):
        assert shows_the_cart(mine.content), f"cart lines missing from {mine.subject!r}\n{o}"
        assert mine.subject.replace(cast.people[label].first_name, "") != theirs.subject.replace("Aino", ""), \
            f"{label} got the English subject {mine.subject!r}"
    assert "CART15" in o.messages[1].content
    assert o.messages[0].subject != o.messages[1].subject, o


def test_the_one_who_prefers_sms_gets_both_by_sms_and_the_discount_sms_carries_the_code(cast):
    o = cast["prefers_sms"]
    assert o.channels == ["sms", "sms"], o
    reminder, discount = o.messages
    assert "CART15" in discount.text, f"the discount SMS has no code\n{o}"
    assert reminder.text != discount.text, o
    assert all(m.to == cast.people["prefers_sms"].phone for m in o.messages)


def test_a_cart_left_at_2330_local_is_followed_up_in_the_morning_and_nothing_is_lost(cast):
    o = cast["night_2330"]
    assert o.not_sent == [], o
    assert len(o.messages) == 2 and in_quiet_hours_violations(o) == [], o
    assert o.messages[0].local.date() == dt.date(2026, 1, 6), "the reminder is the next day, after quiet hours"
    assert shows_the_cart(o.messages[0].content)


def test_a_new_york_shopper_hears_from_us_in_new_york_daytime(cast):
    o = cast["new_york"]
    assert len(o.messages) == 2 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o
    assert all(m.local.tzinfo.key == NEW_YORK for m in o.messages)
    assert "Grace" in o.messages[0].content


def test_the_one_who_reads_at_night_still_gets_both_mails_outside_quiet_hours(cast):
    o = cast["reads_at_night"]
    assert len(o.messages) == 2 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o
    assert all(shows_the_cart(m.content) for m in o.messages), o


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=19)


def test_no_cart_mail_lacks_the_cart(cast):
    mails = [(label, m) for label, o in cast.items() for m in o.messages if m.channel == "email"]
    assert len(mails) >= 8
    assert [(label, m.subject) for label, m in mails if not shows_the_cart(m.content)] == []


def test_no_two_steps_share_a_subject(cast):
    assert_no_shared_subjects(cast, at_least=19)
