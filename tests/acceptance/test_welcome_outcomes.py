"""Welcome series, as a marketer checks it: every sign-up gets a welcome (also at 23:30 or in New
York), then picks, a nudge or a resend, each its own mail, and the A/B variants really differ."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import (
    assert_all_delivered_outside_quiet_hours,
    in_quiet_hours_violations,
    plain,
    shared_subjects,
    without_links,
)


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("welcome")
    people = {
        "clicks": j.person("aino", first_name="Aino", variant="A"),
        "opens_only": j.person("eero", first_name="Eero", variant="A"),
        "silent_a": j.person("sanna", first_name="Sanna", variant="A"),
        "silent_b": j.person("sanna", first_name="Sanna", variant="B"),
        "night_2330": j.person("noora", first_name="Noora"),
        "new_york": j.person("grace", first_name="Grace", zone=NEW_YORK),
        "prefers_sms": j.person("sami", first_name="Sami", prefers="sms"),
        "control_group": j.person("kaisa", first_name="Kaisa", holdout=True),
    }
    lines = []
    for label, p in people.items():
        if label == "night_2330":
            lines += [p.identify("2026-01-05T21:00:00Z"), p.event("form_submit", "2026-01-05T21:30:00Z", form_id="signup")]
        elif label == "new_york":  # 14:00 in New York
            lines += [p.identify("2026-01-05T18:30:00Z"), p.event("form_submit", "2026-01-05T19:00:00Z", form_id="signup")]
        else:  # 10:00 in Helsinki
            lines += [p.identify("2026-01-05T07:30:00Z"), p.event("form_submit", "2026-01-05T08:00:00Z", form_id="signup")]
    lines.append(people["clicks"].event("email_click", "2026-01-06T16:00:00Z", message_id="m1",
                                        url="https://shop.example.com/new"))
    lines.append(people["opens_only"].event("email_open", "2026-01-05T18:00:00Z", message_id="m1"))
    return j.cast(people, lines)


def test_the_one_who_clicks_gets_the_welcome_then_picks_by_name_and_the_run_is_a_goal(cast):
    o = cast["clicks"]
    assert o.channels == ["email", "email"], o
    welcome, picks = o.messages
    assert "Aino" in welcome.subject + welcome.text, o
    assert welcome.subject != picks.subject, o
    assert o.ended == ["goal"]


def test_the_one_who_only_opens_gets_a_nudge_that_is_not_the_welcome_again(cast):
    o = cast["opens_only"]
    assert len(o.messages) == 2, o
    welcome, nudge = o.messages
    assert welcome.subject != nudge.subject and plain(welcome.text) != plain(nudge.text), o
    assert nudge.at - welcome.at >= dt.timedelta(days=2), "the nudge waits for the click window"
    assert o.ended == ["completed"]


def test_the_silent_one_gets_a_resend_with_another_subject(cast):
    o = cast["silent_a"]
    assert len(o.messages) == 2, o
    welcome, resend = o.messages
    assert welcome.subject != resend.subject, f"the resend has another subject (the journey says so)\n{o}"
    assert o.ended == ["completed"]


def test_variant_b_gets_a_different_welcome_than_variant_a(cast):
    a, b = cast["silent_a"], cast["silent_b"]
    assert a.variants == ["A"] and b.variants == ["B"]
    assert len(a.messages) == len(b.messages) == 2, (a, b)
    for ma, mb in zip(a.messages, b.messages):
        assert (ma.subject, plain(without_links(ma.text))) != (mb.subject, plain(without_links(mb.text))), \
            f"A and B sent the same {ma.stage} message: the split measures nothing\n{a}\n{b}"


def test_a_sign_up_at_2330_local_gets_the_welcome_next_morning(cast):
    o = cast["night_2330"]
    assert o.not_sent == [], o
    assert len(o.messages) == 2, f"no welcome for a night-time sign-up\n{o}"
    welcome = o.messages[0]
    assert welcome.local.date() == dt.date(2026, 1, 6) and not in_quiet_hours_violations(o), o
    assert welcome.local.hour < 12, "the welcome goes out first thing after quiet hours"


def test_a_new_york_sign_up_is_welcomed_and_followed_up_in_new_york_daytime(cast):
    o = cast["new_york"]
    assert len(o.messages) == 2 and o.not_sent == [], o
    assert in_quiet_hours_violations(o) == [], o
    assert "Grace" in o.messages[0].subject + o.messages[0].text


def test_the_one_who_prefers_sms_gets_the_welcome_and_the_resend_by_sms_and_they_differ(cast):
    o = cast["prefers_sms"]
    assert o.channels == ["sms", "sms"], o
    assert "Sami" in o.messages[0].text
    assert plain(without_links(o.messages[0].text)) != plain(without_links(o.messages[1].text)), o


def test_the_control_group_gets_nothing(cast):
    o = cast["control_group"]
    assert o.messages == [] and o.not_sent == [] and o.ended == ["holdout"], o


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=14)


def test_no_two_steps_share_a_subject(cast):
    assert sum(len(o.messages) for o in cast.values()) >= 14, "\n".join(map(str, cast.values()))
    steps = {m.stage for o in cast.values() for m in o.messages}
    assert {"picks", "nudge", "resend"} <= steps, steps  # every branch was taken
    assert shared_subjects(list(cast.values()), cast.first_names) == {}
