"""Consent with evidence and double opt-in (#16 point 3), on the twin: an e-mail or SMS marketing
consent given on the web is recorded with where it came from, and counts for marketing only once
the signed link sent to that address or number was used; transactional messages are unaffected;
SMS only to allowed countries; confirmation sends are rate-limited per address and per site."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from polku import clock
from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import TRANSACTIONAL, check_send
from polku.settings import get_settings
from polku.data import events as event_table
from polku.tracking import consent_confirmation, profile_store, trust_secrets

from waiting import uid, wait_for  # tests/integration/waiting.py

pytestmark = pytest.mark.twin
SITE = "demo-shop"
NOON = dt.datetime(2026, 1, 7, 10, 0, tzinfo=dt.timezone.utc)  # outside quiet hours in Helsinki


def web_identify(api, cust, traits, **extra):
    return requests.post(f"{api}/v1/identify", timeout=30, headers={"Origin": "http://localhost:8080",
                                                                    "User-Agent": "test-browser/1"},
                         json={"site_key": SITE, "anonymous_id": uid("a"), "customer_id": cust, "traits": traits,
                               "identity_token": trust_secrets.mint_for(SITE, cust), **extra})


def mails_to(address):
    from moto.ses.models import ses_backends

    from polku.twin.twin import ACCOUNT_ID, REGION

    return [m.raw_data for m in ses_backends[ACCOUNT_ID][REGION].sent_messages
            if getattr(m, "raw_data", None) and f"To: {address}" in m.raw_data]


def texts_to(phone):
    from moto.sns.models import sns_backends

    from polku.twin.twin import ACCOUNT_ID, REGION

    return [t for p, t in sns_backends[ACCOUNT_ID][REGION].sms_messages.values() if p == phone]


def link_in(text, api):
    url = re.search(r"https?://\S+/v1/consent/confirm/[A-Za-z0-9_.%-]+", text.replace("=\r\n", "").replace("=\n", ""))
    assert url, text
    path = urlsplit(url.group(0)).path
    return api + path[path.index("/v1/"):]


def recipient(cust):
    return Recipient.from_profile(profile_store.load(cust))


def decision(cust, channel, message_type="marketing"):
    return check_send(recipient(cust), channel, message_type, NOON, suppressed=False)


def test_a_web_consent_counts_for_marketing_only_after_its_link(api):
    cust, address = uid("c"), f"{uid('m')}@example.org"
    r = web_identify(api, cust, {"email": address, "consents": {"email": True}})
    assert r.status_code == 200, r.text
    assert r.json()["confirmation"] == {"email": "sent"}
    consent = wait_for(lambda: (profile_store.load(cust) or {}).get("consents", {}).get("email"))
    assert consent["granted"] is True and consent["confirmed"] is False and consent["address"] == address
    assert consent["source"] == "web" and consent["trust"] == "verified"
    evidence = event_table.get(r.json()["event_id"])["properties"]["evidence"]
    assert evidence["origin"] == "http://localhost:8080" and evidence["user_agent"] == "test-browser/1"
    assert evidence["ip"] and evidence["pending"] == ["email"]
    # no marketing before the confirmation; a transactional message (an order confirmation) still goes
    assert decision(cust, "email").action == "skip" and "awaits confirmation" in decision(cust, "email").reason
    assert decision(cust, "email", TRANSACTIONAL).send
    [mail] = mails_to(address)
    link = link_in(mail, api)
    page = requests.get(link, timeout=30)  # a mail scanner following the link confirms nothing
    assert page.status_code == 200 and "<form method=\"post\"" in page.text and address in page.text
    assert profile_store.load(cust)["consents"]["email"]["confirmed"] is False
    done = requests.post(link, timeout=30)
    assert done.status_code == 200 and "Confirmed" in done.text, done.text
    assert wait_for(lambda: profile_store.load(cust)["consents"]["email"].get("confirmed") is True)
    assert decision(cust, "email").send
    assert requests.post(link, timeout=30).status_code == 200  # a second click changes nothing
    # a later web consent to another address needs its own confirmation
    other = f"{uid('m')}@example.org"
    assert web_identify(api, cust, {"email": other, "consents": {"email": True}}).json()["confirmation"] == {"email": "sent"}
    assert wait_for(lambda: profile_store.load(cust)["consents"]["email"].get("address") == other)
    assert decision(cust, "email").action == "skip"
    # ... and the old link no longer confirms the new consent
    requests.post(link, timeout=30)
    time.sleep(0.3)
    assert profile_store.load(cust)["consents"]["email"]["confirmed"] is False


def test_a_changed_address_is_not_covered_by_an_old_confirmation():
    profile = {"traits": {"email": "new@example.org"},
               "consents": {"email": {"granted": True, "confirmed": True, "address": "old@example.org"}}}
    assert "email" in Recipient.from_profile(profile, "c").unconfirmed
    profile["traits"]["email"] = "old@example.org"
    assert Recipient.from_profile(profile, "c").unconfirmed == frozenset()


@pytest.mark.parametrize("token", ["x", "a.b.c", "eyJrIjoidSIsIm0iOiJtIn0.k1.AAAA"])
def test_forged_links_are_refused(api, token):
    for method in (requests.get, requests.post):
        r = method(f"{api}/v1/consent/confirm/{token}", timeout=30)
        assert r.status_code == 400 and "does not work" in r.text


def test_an_expired_link_is_refused(api):
    from polku.tracking import consent_delivery

    c = consent_confirmation.Confirmation(uid("c"), "email", "x@example.org", "2026-01-01T00:00:00.000Z#e", SITE)
    old = consent_confirmation.link_token(consent_delivery.link_ring(), c, clock.now() - dt.timedelta(days=8))
    r = requests.post(f"{api}/v1/consent/confirm/{old}", timeout=30)
    assert r.status_code == 400 and "expired" in r.text


def test_sms_consent_only_for_allowed_countries_and_confirmed_by_text(api):
    cust = uid("c")
    r = web_identify(api, cust, {"phone": "+12025550123", "consents": {"sms": True}})
    assert r.status_code == 400 and r.json()["error"]["field"] == "traits.phone"
    assert "+358" in r.json()["error"]["reason"]
    phone = "+35840" + str(uuid.uuid4().int)[:7]
    r = web_identify(api, cust, {"phone": phone, "consents": {"sms": True}})
    assert r.status_code == 200 and r.json()["confirmation"] == {"sms": "sent"}, r.text
    [text] = texts_to(phone)
    wait_for(lambda: profile_store.load(cust))
    assert decision(cust, "sms").action == "skip"
    assert requests.post(link_in(text, api), timeout=30).status_code == 200
    assert wait_for(lambda: decision(cust, "sms").send)
    # with SMS consent, the number cannot move to a country outside the list either
    r = web_identify(api, cust, {"phone": "+12025550123"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "traits.phone"
    r = requests.post(f"{api}/v1/server/identify", timeout=30, headers={"X-Polku-Server-Key": trust_secrets.server_key_for(SITE)},
                      json={"site_key": SITE, "customer_id": cust, "traits": {"phone": "+12025550123"}})
    assert r.status_code == 400 and r.json()["error"]["field"] == "traits.phone"
    assert profile_store.load(cust)["traits"]["phone"] == phone


def test_confirmation_sends_are_rate_limited_per_address(api):
    address = f"{uid('m')}@example.org"
    outcomes = [web_identify(api, uid("c"), {"email": address, "consents": {"email": True}}).json()["confirmation"]["email"]
                for _ in range(consent_confirmation.PER_ADDRESS_PER_DAY + 1)]
    assert outcomes[:-1] == ["sent"] * consent_confirmation.PER_ADDRESS_PER_DAY
    assert outcomes[-1].startswith("rate limited") and len(mails_to(address)) == consent_confirmation.PER_ADDRESS_PER_DAY


def test_the_per_site_limit_is_counted_in_its_hourly_window():
    counted = {}

    def take(key, limit, expires_at):
        counted[key] = counted.get(key, 0) + 1
        return counted[key] <= (1 if key.startswith("confirm-site#") else 99)

    sent = []
    cs = [consent_confirmation.Confirmation(f"c{i}", "email", f"{i}@example.org", "k", SITE) for i in range(3)]

    class Ring:
        def sign(self, claims):
            return "t"

    out = [consent_confirmation.send_confirmations([c], ring=Ring(), base_url="https://x", take=take,
                                                   deliver=lambda c, url: sent.append(url)) for c in cs]
    assert [o["email"] for o in out] == ["sent", "rate limited: 500 confirmations per site per hour",
                                         "rate limited: 500 confirmations per site per hour"]
    assert len(sent) == 1 and any(k.startswith(f"confirm-site#{SITE}#") for k in counted)


def test_consents_from_the_shops_backend_need_no_link(api):
    cust, address = uid("c"), f"{uid('m')}@example.org"
    r = requests.post(f"{api}/v1/server/identify", timeout=30, headers={"X-Polku-Server-Key": trust_secrets.server_key_for(SITE)},
                      json={"site_key": SITE, "customer_id": cust, "traits": {"email": address, "consents": {"email": True}}})
    assert r.status_code == 200 and "confirmation" not in r.json()
    assert mails_to(address) == []
    consent = wait_for(lambda: (profile_store.load(cust) or {}).get("consents", {}).get("email"))
    assert consent["source"] == "server" and "confirmed" not in consent
    assert decision(cust, "email").send


def test_a_site_may_switch_double_opt_in_off(api):
    saved = os.environ.get("CONSENT_CONFIRMATION_SITES")
    os.environ["CONSENT_CONFIRMATION_SITES"] = "some-other-site"
    get_settings.cache_clear()
    try:
        cust, address = uid("c"), f"{uid('m')}@example.org"
        r = web_identify(api, cust, {"email": address, "consents": {"email": True}})
        assert r.status_code == 200 and "confirmation" not in r.json() and mails_to(address) == []
        wait_for(lambda: profile_store.load(cust))
        assert decision(cust, "email").send
    finally:
        if saved is None:
            os.environ.pop("CONSENT_CONFIRMATION_SITES", None)
        else:
            os.environ["CONSENT_CONFIRMATION_SITES"] = saved
        get_settings.cache_clear()
