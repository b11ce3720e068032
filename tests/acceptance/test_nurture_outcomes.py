"""Lead nurture, as a marketer checks it: three different lessons for a cold lead; a hot lead is
handed to sales -- sales hears of it on an EventBridge bus with the lead and its score -- and gets
an introduction; a lead whose score has faded below the threshold is not handed over."""

from __future__ import annotations

import json

import pytest

from tests.acceptance.outcomes import (
    assert_all_delivered_outside_quiet_hours,
    assert_no_shared_subjects,
    in_quiet_hours_violations,
)


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("nurture")
    people = {
        "cold": j.person("aino", first_name="Aino"),
        "hot": j.person("mikko", first_name="Mikko"),
        "faded": j.person("liisa", first_name="Liisa"),
        "night_2330": j.person("noora", first_name="Noora"),
    }
    lines = [p.identify("2026-01-05T07:00:00Z") for label, p in people.items() if label != "night_2330"]
    for label in ("cold", "hot", "faded"):
        lines.append(people[label].event("form_submit", "2026-01-05T08:00:00Z", form_id="lead"))  # 10:00 local
    hot = people["hot"]
    for i in range(6):  # engaged the next day: downloads and product pages
        lines.append(hot.event("form_submit", f"2026-01-06T1{i}:00:00Z", form_id=f"download-{i}"))
        lines.append(hot.event("product_view", f"2026-01-06T1{i}:30:00Z", product_id="p1"))
    # Warm at sign-up (identify 10 + lead form 15 + four product pages 8 = 33 points), then silent:
    # with the 14-day half-life the score is about 28 at the first gate three days later.
    for i in range(4):
        lines.append(people["faded"].event("product_view", f"2026-01-05T08:0{i + 1}:00Z", product_id="p1"))
    night = people["night_2330"]
    lines += [night.identify("2026-01-05T21:00:00Z"), night.event("form_submit", "2026-01-05T21:30:00Z", form_id="lead")]
    return j.cast(people, lines)


def scores(value, key: str = ""):
    """Every number under a key that speaks of a score, anywhere in an event's detail."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from scores(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from scores(v, key)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and "score" in key.lower():
        yield value


def test_a_cold_lead_gets_three_different_lessons_and_is_not_handed_to_sales(cast):
    o = cast["cold"]
    assert o.channels == ["email"] * 3, o
    assert len(set(o.subjects)) == 3, f"the lessons share a subject\n{o}"
    assert o.sales == [] and o.ended == ["completed"], o


def test_a_hot_lead_reaches_sales_with_its_score_and_gets_an_introduction(cast):
    o = cast["hot"]
    assert len(o.sales) == 1, f"sales should hear of the hot lead once (a hand-over event on a bus)\n{o}"
    detail = o.sales[0]["detail"]
    assert cast.people["hot"].cid in json.dumps(detail), detail
    assert any(score >= 30 for score in scores(detail)), f"the hand-over does not carry the lead's score: {detail}"
    lesson, intro = o.messages[0], o.messages[-1]
    assert intro.subject != lesson.subject, o
    assert o.ended == ["goal"]


def test_a_lead_whose_score_has_faded_is_not_handed_to_sales(cast):
    o = cast["faded"]
    assert o.sales == [], f"handed to sales on an undecayed score\n{o}"
    assert len(o.messages) == 3 and o.ended == ["completed"], o


def test_a_lead_at_2330_gets_lesson_one_in_the_morning(cast):
    o = cast["night_2330"]
    assert o.not_sent == [] and len(o.messages) == 3, o
    assert in_quiet_hours_violations(o) == [], o


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=11)


def test_no_two_steps_share_a_subject(cast):
    assert_no_shared_subjects(cast, at_least=11)
