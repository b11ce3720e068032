"""Event invitation, as a marketer checks it: invitation, confirmation, thanks or recording, last
chance -- each its own mail naming the event; attendance on the event day counts; the recording
goes out after the event, never before."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import date_shown, in_quiet_hours_violations, shared_subjects

EVENT = "Midwinter Pickling Workshop"
EVENT_DAY = dt.date(2026, 1, 25)


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("event_invitation")
    people = {
        "attends": j.person("aino", first_name="Aino"),
        "no_show": j.person("mikko", first_name="Mikko"),
        "undecided": j.person("liisa", first_name="Liisa"),
        "late_registration": j.person("eero", first_name="Eero"),
        "new_york": j.person("grace", first_name="Grace", zone=NEW_YORK),
    }

    def custom(p, name, ts):
        return p.event("custom", ts, name=name, event_ref="pickling-2026", event_name=EVENT,
                       event_date=EVENT_DAY.isoformat())

    lines = [p.identify("2026-01-05T02:00:00Z") for p in people.values()]
    for label in ("attends", "no_show", "undecided", "late_registration"):
        lines.append(custom(people[label], "event_invited", "2026-01-05T09:00:00Z"))  # 11:00 in Helsinki
    lines.append(custom(people["new_york"], "event_invited", "2026-01-05T03:00:00Z"))  # 22:00 in New York
    for label in ("attends", "no_show"):
        lines.append(custom(people[label], "event_registered", "2026-01-06T10:00:00Z"))
    lines.append(custom(people["late_registration"], "event_registered", "2026-01-13T10:00:00Z"))
    for label in ("attends", "late_registration"):  # on the event day, 18:00 in Helsinki
        lines.append(custom(people[label], "event_attended", "2026-01-25T16:00:00Z"))
    return j.cast(people, lines)


def test_the_attendee_gets_invitation_confirmation_and_thanks_each_naming_the_event(cast):
    o = cast["attends"]
    assert len(o.messages) == 3, f"attendance on the event day was not counted\n{o}"
    for m in o.messages:
        assert EVENT in m.content, f"{m.subject!r} does not name the event\n{o}"
    assert len(set(o.subjects)) == 3, o
    assert o.messages[2].local.date() >= EVENT_DAY, "thanks come after the event"
    assert o.ended == ["goal"]


def test_the_invitation_says_when_the_event_is(cast):
    invitation = cast["attends"].messages[0]
    assert date_shown(EVENT_DAY, invitation.text), f"no event date in the invitation\n{invitation.text}"


def test_the_no_show_gets_the_recording_after_the_event_not_before(cast):
    o = cast["no_show"]
    assert len(o.messages) == 3, o
    invitation, confirmation, recording = o.messages
    assert confirmation.message_type == "transactional"
    assert recording.local.date() > EVENT_DAY, f"the recording went out before the event was over\n{o}"
    assert len({invitation.subject, confirmation.subject, recording.subject}) == 3, o
    assert EVENT in recording.content
    assert o.ended == ["completed"]


def test_the_undecided_get_one_last_chance_before_the_event(cast):
    o = cast["undecided"]
    assert len(o.messages) == 2, o
    invitation, last_chance = o.messages
    assert invitation.subject != last_chance.subject, o
    assert EVENT in last_chance.content and last_chance.local.date() < EVENT_DAY
    assert o.ended == ["completed"]


def test_a_late_registration_is_confirmed_and_thanked(cast):
    o = cast["late_registration"]
    assert len(o.messages) == 4, o
    assert len(set(o.subjects)) == 4, o
    assert o.ended == ["goal"]


def test_a_new_york_invitee_invited_at_2200_local_is_invited_in_the_morning(cast):
    o = cast["new_york"]
    assert o.not_sent == [] and len(o.messages) >= 1, f"the invitation was lost to quiet hours\n{o}"
    assert in_quiet_hours_violations(o) == [], o
    assert EVENT in o.messages[0].content


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert sum(len(o.messages) for o in cast.values()) >= 14, "\n".join(map(str, cast.values()))
    for label, o in cast.items():
        assert o.not_sent == [], f"{label}: {o}"
        assert in_quiet_hours_violations(o) == [], f"{label}: {o}"
        assert all(m.to for m in o.messages), f"{label}: a message no provider delivered\n{o}"


def test_no_two_steps_share_a_subject(cast):
    assert sum(len(o.messages) for o in cast.values()) >= 14, "\n".join(map(str, cast.values()))
    assert shared_subjects(list(cast.values()), cast.first_names) == {}
