"""Segments: parsing (errors name the field) and evaluation over a profile as the profile builder writes it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from polku.campaigns import segments
from polku.campaigns.segments import SegmentError, parse
from polku.tracking import profile_builder
from polku.tracking.lead_score import LeadScoreRules

NOW = dt.datetime(2026, 4, 14, 9, 0, tzinfo=dt.timezone.utc)
CATEGORIES = {"p-coffee": "coffee", "p-tea": "tea"}


def profile(**events) -> dict:
    """A profile folded from events by the real profile builder."""
    p = profile_builder.new_profile("c1")
    for i, (etype, ts, props) in enumerate(events.get("events", [])):
        profile_builder.apply_event(p, {"event_id": f"e{i}", "type": etype, "client_ts": ts, "properties": props,
                                        "customer_id": "c1"}, category_of=CATEGORIES.get)
    return p


def identify(traits: dict, ts="2026-01-01T08:00:00Z"):
    return ("identify", ts, {"traits": traits})


def buy(pid: str, ts: str, qty=1):
    return ("purchase", ts, {"revenue": 10, "items": [{"product_id": pid, "quantity": qty}]})


def seg(rule: dict) -> segments.Segment:
    return parse({"name": "s", **rule})


def test_example_segment_file_loads_and_selects():
    s = segments.load("lapsed_coffee_lovers")
    fan = profile(events=[identify({"email": "a@example.com", "consents": {"email": True}}),
                          buy("p-coffee", "2026-02-01T10:00:00Z")])
    recent = profile(events=[identify({"email": "a@example.com", "consents": {"email": True}}),
                             buy("p-coffee", "2026-04-10T10:00:00Z")])
    no_consent = profile(events=[identify({"email": "a@example.com"}), buy("p-coffee", "2026-02-01T10:00:00Z")])
    tea = profile(events=[identify({"email": "a@example.com", "consents": {"email": True}}),
                          buy("p-tea", "2026-02-01T10:00:00Z")])
    kw = {"category_of": CATEGORIES.get}
    assert s.matches(fan, NOW, **kw)
    assert not s.matches(recent, NOW, **kw)
    assert not s.matches(no_consent, NOW, **kw)
    assert not s.matches(tea, NOW, **kw)


def test_consent_follows_the_send_policy_unconfirmed_web_consent_is_not_in():
    p = profile(events=[identify({"email": "a@example.com", "consents": {"email": True}})])
    assert seg({"consent": "email"}).matches(p, NOW)
    p["consents"]["email"]["confirmed"] = False  # double opt-in pending
    assert not seg({"consent": "email"}).matches(p, NOW)
    assert not seg({"consent": "sms"}).matches(p, NOW)


def test_all_any_not_combine():
    p = profile(events=[identify({"plan": "gold", "age": 41})])
    assert seg({"all": [{"trait": {"name": "plan", "eq": "gold"}}, {"trait": {"name": "age", "gte": 40}}]}).matches(p, NOW)
    assert not seg({"all": [{"trait": {"name": "plan", "eq": "gold"}}, {"trait": {"name": "age", "gt": 41}}]}).matches(p, NOW)
    assert seg({"any": [{"trait": {"name": "plan", "eq": "x"}}, {"trait": {"name": "age", "in": [41]}}]}).matches(p, NOW)
    assert seg({"not": {"trait": {"name": "vip", "exists": True}}}).matches(p, NOW)
    assert not seg({"not": {"trait": {"name": "plan", "exists": True}}}).matches(p, NOW)


def test_event_counts_and_recency():
    p = profile(events=[("page_view", "2026-04-01T08:00:00Z", {"url": "https://x/"}),
                        ("page_view", "2026-04-02T08:00:00Z", {"url": "https://x/"})])
    assert seg({"events": {"type": "page_view", "gte": 2}}).matches(p, NOW)
    assert not seg({"events": {"type": "page_view", "gte": 3}}).matches(p, NOW)
    assert seg({"events": {"type": "purchase", "eq": 0}}).matches(p, NOW)
    assert seg({"last_seen": {"within_days": 13}}).matches(p, NOW)
    assert not seg({"last_seen": {"within_days": 11}}).matches(p, NOW)
    assert seg({"last_seen": {"older_than_days": 11}}).matches(p, NOW)
    assert not seg({"last_purchase": {"older_than_days": 30}}).matches(p, NOW)  # never bought
    assert seg({"last_purchase": {"older_than_days": 30, "or_never": True}}).matches(p, NOW)


def test_purchases_in_a_category_with_quantity_and_window():
    p = profile(events=[buy("p-coffee", "2026-01-10T10:00:00Z", 2), buy("p-tea", "2026-04-10T10:00:00Z")])
    kw = {"category_of": CATEGORIES.get}
    assert seg({"purchased": {"category": "coffee"}}).matches(p, NOW, **kw)
    assert seg({"purchased": {"category": "coffee", "min_quantity": 2}}).matches(p, NOW, **kw)
    assert not seg({"purchased": {"category": "coffee", "min_quantity": 3}}).matches(p, NOW, **kw)
    assert not seg({"purchased": {"category": "coffee", "within_days": 30}}).matches(p, NOW, **kw)
    assert seg({"purchased": {"category": "tea", "within_days": 30}}).matches(p, NOW, **kw)


def test_category_affinity_and_top_category():
    p = profile(events=[buy("p-coffee", "2026-01-10T10:00:00Z"), ("product_view", "2026-01-11T10:00:00Z",
                                                                  {"product_id": "p-tea"})])
    assert p["category_affinity"] == {"coffee": 5, "tea": 1}
    assert seg({"affinity": {"category": "coffee", "gte": 5}}).matches(p, NOW)
    assert not seg({"affinity": {"category": "tea", "gte": 2}}).matches(p, NOW)
    assert seg({"affinity": {"top": "coffee"}}).matches(p, NOW)
    assert not seg({"affinity": {"top": "tea"}}).matches(p, NOW)


def test_lead_score_is_decayed_to_now():
    p = profile(events=[("form_submit", "2026-04-14T09:00:00Z", {"form_id": "f"})])  # 15 points
    rules = LeadScoreRules()  # half-life 14 days
    assert seg({"lead_score": {"gte": 14.9}}).matches(p, NOW, rules=rules)
    later = NOW + dt.timedelta(days=14)
    assert not seg({"lead_score": {"gte": 14.9}}).matches(p, later, rules=rules)
    assert seg({"lead_score": {"gte": 7.4, "lte": 7.6}}).matches(p, later, rules=rules)


def test_time_zone_and_locale():
    p = profile(events=[identify({"time_zone": "Europe/Helsinki", "locale": "fi"})])
    assert seg({"time_zone": {"in": ["Europe/Helsinki", "Europe/Tallinn"]}}).matches(p, NOW)
    assert not seg({"time_zone": "UTC"}).matches(p, NOW)
    assert seg({"locale": "fi"}).matches(p, NOW)
    assert not seg({"time_zone": {"exists": True}}).matches(profile(), NOW)


@pytest.mark.parametrize("doc, field", [
    ({"name": "Bad"}, "name"),
    ({"name": "s"}, "exactly one top-level rule"),
    ({"name": "s", "all": []}, "all: needs a non-empty list"),
    ({"name": "s", "all": [{"bogus": 1}]}, "all[0].bogus: unknown rule"),
    ({"name": "s", "consent": "fax"}, "consent: a channel"),
    ({"name": "s", "trait": {"eq": 1}}, "trait.name: required"),
    ({"name": "s", "trait": {"name": "x", "near": 1}}, "unknown operator 'near'"),
    ({"name": "s", "events": {"type": "purchase"}}, "events: give a matcher"),
    ({"name": "s", "last_seen": {"within": 3}}, "last_seen: give within_days"),
    ({"name": "s", "last_seen": {"within_days": -1}}, "last_seen.within_days"),
    ({"name": "s", "purchased": {"min_quantity": 1}}, "purchased.category: required"),
    ({"name": "s", "purchased": {"category": "c", "min_quantity": 0}}, "purchased.min_quantity"),
    ({"name": "s", "affinity": {"top": "c", "gte": 1}}, "top stands alone"),
    ({"name": "s", "any": [{"not": {"all": [{"lead_score": {"in": 3}}]}}]}, "any[0].not.all[0].lead_score: in needs a list"),
])
def test_bad_segments_name_the_field(doc, field):
    with pytest.raises(SegmentError) as err:
        parse(doc)
    assert field in str(err.value)


def test_file_name_must_match_and_unknown_segment_lists_the_known(tmp_path: Path):
    (tmp_path / "one.yaml").write_text("name: two\nconsent: email\n")
    with pytest.raises(SegmentError, match="differs from the file name"):
        segments.load("one", tmp_path)
    with pytest.raises(SegmentError, match=r"no file nope.yaml .*segments: one"):
        segments.load("nope", tmp_path)
