"""Abuse limits on the public routes (#16 point 4): template.yaml's WAF web ACL limits requests per
client IP and per site key; the twin's API Gateway enforces the same rules, read from the template."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from polku.twin.waf_rate_rules import RateRules, UnsupportedRule

pytestmark = pytest.mark.twin
SITE = "demo-shop"


def _rules(twin, **limits):
    """The template's rules with other parameter values (as a stack deployed with them would have)."""
    def resolve(value):
        if isinstance(value, dict) and value.get("Ref") in limits:
            return limits[value["Ref"]]
        return twin.resolver.resolve(value)

    return RateRules.from_template(twin.template, resolve)


@pytest.fixture
def limited(twin):
    """Swap the twin's rules for the template's with low limits; put the real ones back after."""
    saved = twin.api.rate_rules

    def use(**limits):
        twin.api.rate_rules = _rules(twin, **limits)
        return twin.api_url

    yield use
    twin.api.rate_rules = saved


def page_view():
    return {"event_id": uuid.uuid4().hex, "type": "page_view", "anonymous_id": "a-" + uuid.uuid4().hex[:8],
            "ts": "2026-01-05T08:00:00Z", "properties": {"url": "/"}}


def post_events(api, site=SITE, query=True):
    url = f"{api}/v1/events" + (f"?site_key={site}" if query else "")
    return requests.post(url, data=json.dumps({"site_key": SITE, "events": [page_view()]}),
                         headers={"Content-Type": "text/plain"}, timeout=30)


def test_the_twin_enforces_the_templates_rules_as_deployed(twin):
    rules = {r["rule"]: r for r in twin.api.rate_rules.describe()}
    params = twin.template.parameters
    assert rules == {
        "per-client-ip": {"rule": "per-client-ip", "limit": int(params["ClientRateLimit"]["Default"]),
                          "window_seconds": 300, "per": "client IP"},
        "per-site-key": {"rule": "per-site-key", "limit": int(params["SiteRateLimit"]["Default"]),
                         "window_seconds": 300, "per": "query argument site_key"},
    }


def test_a_client_over_its_limit_gets_429_from_the_waf_rule(limited):
    api = limited(ClientRateLimit=10, SiteRateLimit=100000)
    answers = [post_events(api, query=i % 2 == 0) for i in range(12)]
    assert [a.status_code for a in answers[:10]] == [200] * 10
    blocked = answers[10]
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "60"
    assert blocked.json()["error"]["field"] == "rate"
    # identify is a public route too; the server API, the tracker script and health are not limited here
    assert requests.post(f"{api}/v1/identify", json={"site_key": SITE, "customer_id": "c"}, timeout=30).status_code == 429
    assert requests.get(f"{api}/v1/polku.js", timeout=30).status_code == 200
    assert requests.post(f"{api}/v1/server/events", json={"site_key": SITE, "events": []}, timeout=30).status_code == 401


def test_a_site_over_its_limit_gets_429_other_sites_do_not(limited):
    api = limited(ClientRateLimit=100000, SiteRateLimit=10)
    assert [post_events(api).status_code for _ in range(10)] == [200] * 10
    assert post_events(api).status_code == 429
    other = post_events(api, site="another-shop")  # counted for its own key (the app refuses the key mismatch)
    assert other.status_code == 403 and other.json()["error"]["field"] == "site_key"
    assert post_events(api, query=False).status_code == 200  # WAF counts only requests that carry the key


def test_the_query_site_key_must_be_the_requests():
    from polku.tracking import http_api

    answer = http_api.post_events(json.dumps({"site_key": SITE, "events": [page_view()]}).encode(), {},
                                  {"site_key": "someone-elses"})
    assert answer.status == 403 and answer.body["error"]["field"] == "site_key"


def test_rules_the_twin_cannot_enforce_are_named(twin):
    class T:
        def __init__(self, rules):
            self.rules = rules

        def of_type(self, _):
            return {"Acl": {"Properties": {"Rules": self.rules}}}

    for rule, words in (
        ({"Name": "geo", "Statement": {"GeoMatchStatement": {}}}, "only RateBasedStatement"),
        ({"Name": "hdr", "Statement": {"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "CUSTOM_KEYS",
                                                               "CustomKeys": [{"Header": {"Name": "x"}}]}}}, "QueryArgument"),
        ({"Name": "fwd", "Statement": {"RateBasedStatement": {"Limit": 10, "AggregateKeyType": "FORWARDED_IP"}}}, "FORWARDED_IP"),
    ):
        with pytest.raises(UnsupportedRule, match=words):
            RateRules.from_template(T([rule]), lambda v: v)
