"""tracker.js in real Chromium on a small shop page served locally, posting to the twin."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from polku.data import events as event_table
from polku.data import identities
from polku.tracking import profile_store  # noqa: F401 - import models first
from polku.tracking.trust_secrets import mint_for

from page_driver import drive, origins_allowed, serve, wait_for  # tests/browser/page_driver.py

pytestmark = [pytest.mark.browser, pytest.mark.twin]
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


@pytest.fixture(scope="module")
def shop(twin, tmp_path_factory):
    root = tmp_path_factory.mktemp("shop")
    template = (HERE / "shop.html").read_text()
    for consent, name in (("undefined", "open.html"), ("false", "consent.html")):
        (root / name).write_text(template.replace("__API__", twin.api_url).replace("__CONSENT__", consent))
    origin, server = serve(root)
    with origins_allowed(origin):  # the shop is on the allow-list
        yield origin
    server.shutdown()


def events_of(subject):
    return list(event_table.of_subject(subject))


def test_shop_session_reaches_the_events_table_with_the_customer(shop):
    customer = f"c-{uuid.uuid4().hex[:10]}"
    token = mint_for("demo-shop", customer)  # what the shop's backend renders into the page at sign-in
    out = drive(f"{shop}/open.html", [
        {"waitFor": "window.polku && window.polku.loaded"},
        {"eval": f"window.CUSTOMER = '{customer}'; window.TOKEN = '{token}'; "
                 "document.cookie.match(/polku_aid=([^;]+)/)[1]"},
        {"wait": 600},  # the queued page_view + product_view flush
        {"click": "#login"},
        {"click": "#add"},
        {"click": "#buy"},
        {"wait": 1200},
        {"eval": "polku.track('search', {query: 'leaving'})"},
        {"goto": "about:blank"},  # pagehide: sendBeacon
        {"wait": 500},
    ])
    assert not [c for c in out["console"] if c.startswith("pageerror")], out["console"]
    anon = out["results"][0]
    assert [r for r in out["requests"] if r["url"].endswith("/v1/polku.js")]
    wait_for(lambda: len(events_of(f"a#{anon}")) >= 2)  # the whole batch, not only its first stored event
    before = events_of(f"a#{anon}")
    assert sorted(e["type"] for e in before) == ["page_view", "product_view"]  # queued before the script loaded
    assert before[0]["context"]["library"] == "polku.js/1" and before[0]["site_key"] == "demo-shop"
    posts = [r["url"] for r in out["requests"] if r["method"] == "POST"]
    assert posts and all(u.endswith("?site_key=demo-shop") for u in posts)  # counted by the per-site rate limit
    assert identities.customer_of(anon) == customer
    after = wait_for(lambda: len(events_of(f"c#{customer}")) >= 4 and events_of(f"c#{customer}"))
    types = sorted(e["type"] for e in after)
    assert types == ["add_to_cart", "identify", "purchase", "search"], types
    assert all(e["anonymous_id"] == anon for e in after)
    purchase = next(e for e in after if e["type"] == "purchase")
    assert purchase["properties"]["items"][0]["product_id"] == "sku-42"
    profile = wait_for(lambda: profile_store.load(customer))
    assert profile["counts"]["purchase"] == 1 and profile["counts"]["product_view"] == 1
    assert profile["traits"]["email"] == "tea@example.com"
    # "search" was tracked right before leaving the page: it went out on pagehide (sendBeacon)
    assert next(e for e in after if e["type"] == "search")["properties"] == {"query": "leaving"}


def test_identify_sends_the_token_and_a_refused_one_links_nothing(shop):
    """The token goes in the identify body; a forged one is refused (403 naming identity_token): the
    browser stays anonymous, its later events are not attributed to the customer, and the page's
    console says why."""
    customer = f"c-{uuid.uuid4().hex[:10]}"
    forged = "9999999999." + "0" * 64
    out = drive(f"{shop}/open.html", [
        {"waitFor": "window.polku && window.polku.loaded"},
        {"eval": f"window.CUSTOMER = '{customer}'; window.TOKEN = '{forged}'; "
                 "document.cookie.match(/polku_aid=([^;]+)/)[1]"},
        {"wait": 600},
        {"click": "#login"},
        {"wait": 800},
        {"click": "#add"},
        {"wait": 1200},
        {"eval": "localStorage.getItem('polku_cid')"},
    ])
    anon = out["results"][0]
    sent = [json.loads(r["body"]) for r in out["requests"] if r["method"] == "POST" and r["url"].endswith("/v1/identify?site_key=demo-shop")]
    assert len(sent) == 1 and sent[0]["identity_token"] == forged and sent[0]["customer_id"] == customer
    assert any("polku identify refused: identity_token" in c for c in out["console"]), out["console"]
    assert out["results"][1] is None  # the refused customer id is not kept
    assert identities.customer_of(anon) is None
    stored = wait_for(lambda: len(events_of(f"a#{anon}")) >= 3 and events_of(f"a#{anon}"))
    assert sorted(e["type"] for e in stored) == ["add_to_cart", "page_view", "product_view"]
    assert all("customer_id" not in e for e in stored) and events_of(f"c#{customer}") == []


def test_nothing_is_sent_before_consent(shop):
    out = drive(f"{shop}/consent.html", [
        {"waitFor": "window.polku && window.polku.loaded"},
        {"eval": "window.CUSTOMER = 'never'; 1"},
        {"click": "#add"},
        {"click": "#login"},
        {"wait": 1500},
        {"eval": "[document.cookie.indexOf('polku_aid') < 0, localStorage.length]"},
        {"eval": "polku.consent(true); polku.track('search', {query: 'after consent'}); 1"},
        {"wait": 1500},
    ])
    first_wait_requests = [r for r in out["requests"] if r["method"] == "POST" and "after consent" not in (r["body"] or "")]
    assert first_wait_requests == [], first_wait_requests
    no_cookie, stored_keys = out["results"][1]
    assert no_cookie and stored_keys == 0  # no identifier kept before consent
    sent = [r for r in out["requests"] if r["method"] == "POST"]
    assert len(sent) == 1 and "after consent" in sent[0]["body"]


def test_failed_posts_are_retried_with_backoff_and_stored_once(shop):
    out = drive(f"{shop}/open.html", [
        {"waitFor": "window.polku && window.polku.loaded"},
        {"eval": "document.cookie.match(/polku_aid=([^;]+)/)[1]"},
        {"wait": 5000},
    ], failEvents=2)
    anon = out["results"][0]
    posts = [r["body"] for r in out["requests"] if r["method"] == "POST" and r["url"].endswith("/v1/events?site_key=demo-shop")]
    assert len(out["failed"]) == 2 and len(posts) == 3  # two answered 503, then the retry went through
    assert out["failed"][0] == out["failed"][1] == posts[2]  # the same events (same ids) each time
    stored = wait_for(lambda: events_of(f"a#{anon}"))
    assert sorted(e["type"] for e in stored) == ["page_view", "product_view"]


def test_offline_events_wait_in_the_queue_and_survive_a_reload(shop):
    out = drive(f"{shop}/open.html", [
        {"waitFor": "window.polku && window.polku.loaded"},
        {"eval": "document.cookie.match(/polku_aid=([^;]+)/)[1]"},
        {"wait": 800},
        {"offline": True},
        {"eval": "polku.track('search', {query: 'offline 1'}); polku.track('search', {query: 'offline 2'}); 1"},
        {"wait": 800},
        {"eval": "JSON.parse(localStorage.getItem('polku_q')).length"},
        {"offline": False},
        {"eval": "location.reload(); 1"},
        {"waitFor": "window.polku && window.polku.loaded"},
        {"wait": 2500},
    ])
    anon = out["results"][0]
    assert out["results"][2] == 2  # both events kept in the bounded offline queue
    queries = lambda: sorted(e["properties"].get("query", "") for e in events_of(f"a#{anon}") if e["type"] == "search")  # noqa: E731
    assert wait_for(lambda: queries() == ["offline 1", "offline 2"]), queries()
