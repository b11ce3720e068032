"""Double opt-in (#16 point 3), pure: which consents wait, the SMS country rule, the link's token,
and how the profile folds a confirmation (whatever order the events come in)."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.messaging.links import KeyRing
from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import TRANSACTIONAL, check_send
from polku.tracking import consent_confirmation as cc
from polku.tracking import profile_builder
from polku.tracking.validation import Invalid

RING = KeyRing.from_secret({"active": "k1", "k1": "0123456789abcdef0123456789abcdef"})
NOW = dt.datetime(2026, 1, 7, 10, 0, tzinfo=dt.timezone.utc)


def test_only_web_email_and_sms_consents_of_listed_sites_wait():
    traits = {"consents": {"email": True, "sms": True, "push": True, "webhook": False}}
    assert cc.pending(traits, True, "shop", ["*"]) == ["email", "sms"]
    assert cc.pending(traits, True, "shop", ["shop"]) == ["email", "sms"]
    assert cc.pending(traits, True, "shop", ["other"]) == []
    assert cc.pending(traits, False, "shop", ["*"]) == []  # the server API vouches
    assert cc.pending({"consents": {"email": False}}, True, "shop", ["*"]) == []


@pytest.mark.parametrize("phone, granted, ok", [
    ("+358401234567", True, True), ("+12025550123", True, False), ("+3584", True, True),
    ("+12025550123", False, True), (None, True, True), ("+4670123456", True, True),
])
def test_sms_only_to_allowed_calling_codes(phone, granted, ok):
    if ok:
        cc.check_sms_country(phone, granted, ["358", "46"])
    else:
        with pytest.raises(Invalid) as err:
            cc.check_sms_country(phone, granted, ["358", "46"])
        assert err.value.field == "traits.phone" and "+358, +46" in err.value.reason


def test_the_link_token_names_one_consent_and_expires():
    c = cc.Confirmation("c1", "sms", "+358401234567", "2026-01-07T09:00:00.000Z#e1", "shop")
    token = cc.link_token(RING, c, NOW)
    assert cc.read_token(RING, token, NOW + dt.timedelta(days=6)) == c
    with pytest.raises(Invalid, match="expired"):
        cc.read_token(RING, token, NOW + dt.timedelta(days=cc.LINK_DAYS, seconds=1))
    click = RING.sign({"k": "c", "m": "m1", "c": "c1", "u": "https://x"})  # another kind of link
    with pytest.raises(Invalid, match="not a confirmation link"):
        cc.read_token(RING, click, NOW)
    with pytest.raises(Invalid, match="not a valid"):
        cc.read_token(RING, token[:-2] + "AA", NOW)


def _identify(eid, ts, traits, pending=()):
    return {"event_id": eid, "type": "identify", "client_ts": ts, "ts": f"{ts}#{eid}", "customer_id": "c1",
            "properties": {"traits": traits, "evidence": {"source": "web", "trust": "verified", "pending": list(pending)}}}


def _confirmed(eid, ts, consent_key, address):
    return {"event_id": eid, "type": "consent_confirmed", "client_ts": ts, "ts": f"{ts}#{eid}", "customer_id": "c1",
            "properties": {"channel": "email", "consent_key": consent_key, "address": address}}


def test_the_profile_confirms_only_the_consent_the_link_was_for():
    given = _identify("i1", "2026-01-07T09:00:00.000Z", {"email": "a@x.org", "consents": {"email": True}}, ["email"])
    confirm = _confirmed("k1", "2026-01-07T09:05:00.000Z", given["ts"], "a@x.org")
    for order in ([given, confirm], [confirm, given]):
        profile = profile_builder.build("c1", order)
        entry = profile["consents"]["email"]
        assert entry["confirmed"] is True and entry["address"] == "a@x.org" and entry["source"] == "web"
        r = Recipient.from_profile(profile)
        assert check_send(r, "email", "marketing", NOW, suppressed=False, quiet=None).send
    newer = _identify("i2", "2026-01-07T10:00:00.000Z", {"email": "b@x.org", "consents": {"email": True}}, ["email"])
    profile = profile_builder.build("c1", [given, confirm, newer])
    assert profile["consents"]["email"]["confirmed"] is False and profile["consents"]["email"]["address"] == "b@x.org"
    r = Recipient.from_profile(profile)
    assert check_send(r, "email", "marketing", NOW, suppressed=False, quiet=None).reason == \
        "email consent awaits confirmation (double opt-in)"
    assert check_send(r, "email", TRANSACTIONAL, NOW, suppressed=False, quiet=None).send


def test_consents_without_confirmation_are_as_before():
    server = _identify("i1", "2026-01-07T09:00:00.000Z", {"email": "a@x.org", "consents": {"email": True}})
    profile = profile_builder.build("c1", [server])
    assert "confirmed" not in profile["consents"]["email"]
    assert Recipient.from_profile(profile).unconfirmed == frozenset()
