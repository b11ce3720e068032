"""Building a recipient from a profile dict is tolerant of missing and odd fields."""

from decimal import Decimal

from polku.messaging.recipient import Recipient


def test_full_profile():
    p = {
        "customer_id": "c1",
        "traits": {"email": "ann@example.com", "phone": "+358401234567", "first_name": "Ann"},
        "consents": {"email": {"granted": True, "ts": "x"}, "sms": {"granted": False}, "push": "granted"},
        "preferred_channel": "sms",
        "last_read": {"channel": "email", "ts": "2026-01-01T00:00:00Z"},
        "open_hours": {"10": Decimal(3), "11": Decimal("1"), "999": 5, "x": 1},
        "click_hours": {"10": 1},
        "locale": "fi",
        "time_zone": "Europe/Helsinki",
    }
    r = Recipient.from_profile(p)
    assert (r.email, r.phone, r.first_name, r.locale, r.time_zone) == (
        "ann@example.com", "+358401234567", "Ann", "fi", "Europe/Helsinki")
    assert r.consents == {"email": True, "sms": False, "push": True}
    assert r.preferred_channel == "sms" and r.last_channel == "email"
    assert r.open_hours[10] == 4 and r.open_hours[11] == 1 and r.history_weight == 5
    assert r.has_consent("email") and not r.has_consent("sms") and not r.has_consent("sms", transactional=True)


def test_empty_and_garbage_profiles():
    for p in (None, {}, {"traits": "nope", "consents": [1, 2], "open_hours": "x", "preferred_channel": "fax"}):
        r = Recipient.from_profile(p, "c9")
        assert r.customer_id == "c9" and r.email is None and r.consents == {} and r.preferred_channel is None
        assert len(r.open_hours) == 168 and r.history_weight == 0
        assert not r.has_consent("email") and r.has_consent("email", transactional=True)


def test_top_level_fields_and_list_histogram():
    r = Recipient.from_profile({"email": "x@example.com", "open_hours": [1] * 168, "consents": {"email": True}}, "c1")
    assert r.email == "x@example.com" and r.history_weight == 168 and r.has_consent("email")
