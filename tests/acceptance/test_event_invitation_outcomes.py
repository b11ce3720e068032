"""Event invitation, as a marketer checks it: invitation, confirmation, the day-before reminder,
thanks or recording, last chance -- each its own mail naming the event; every wait follows the
event's date in the customer's time zone (docs/journeys.md, "Event invitation"): the last chance on
day 3 (or the day before the event, never sooner than 2 days after the invitation), the registrant's
"tomorrow" at 10:00 local, thanks and recording at 10:00 local the morning after the event day, and
nothing for an event already begun."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.acceptance.conftest import NEW_YORK
from tests.acceptance.outcomes import (
    assert_all_delivered_outside_quiet_hours,
    assert_no_shared_subjects,
    date_shown,
    in_quiet_hours_violations,
)

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
    assert [m.stage for m in o.messages] == ["main", "confirmation", "reminder", "thanks"], \
        f"attendance on the event day was not counted\n{o}"
    for m in o.messages:
        assert EVENT in m.content, f"{m.subject!r} does not name the event\n{o}"
    assert len(set(o.subjects)) == 4, o
    reminder, thanks = o.messages[2], o.messages[3]
    assert reminder.local == dt.datetime(2026, 1, 24, 10, 0, tzinfo=reminder.local.tzinfo), o
    assert "tomorrow" in reminder.text and date_shown(EVENT_DAY, reminder.text), reminder.text
    assert thanks.local.date() > EVENT_DAY, "thanks come after the event"
    assert o.ended == ["goal"]


def test_the_invitation_says_when_the_event_is(cast):
    invitation = cast["attends"].messages[0]
    assert date_shown(EVENT_DAY, invitation.text), f"no event date in the invitation\n{invitation.text}"


def test_the_no_show_gets_the_recording_after_the_event_not_before(cast):
    o = cast["no_show"]
    assert [m.stage for m in o.messages] == ["main", "confirmation", "reminder", "recording"], o
    invitation, confirmation, _, recording = o.messages
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
    assert last_chance.local == dt.datetime(2026, 1, 8, 10, 0, tzinfo=last_chance.local.tzinfo), "day 3, 10:00 local"
    assert o.ended == ["completed"]


def test_a_late_registration_is_confirmed_and_thanked(cast):
    o = cast["late_registration"]
    assert [m.stage for m in o.messages] == ["main", "last_chance", "confirmation", "reminder", "thanks"], o
    assert len(set(o.subjects)) == 5, o
    assert o.ended == ["goal"]


def test_a_new_york_invitee_invited_at_2200_local_is_invited_in_the_morning(cast):
    o = cast["new_york"]
    assert o.not_sent == [] and len(o.messages) >= 1, f"the invitation was lost to quiet hours\n{o}"
    assert in_quiet_hours_violations(o) == [], o
    assert EVENT in o.messages[0].content


def test_nobody_is_messaged_in_quiet_hours_and_no_message_is_lost(cast):
    assert_all_delivered_outside_quiet_hours(cast, at_least=14)


def test_no_two_steps_share_a_subject(cast):
    assert_no_shared_subjects(cast, at_least=14)


# ---------------------------------------------------------------- the timeline follows the event's date
TASTING = "Spring Tasting Evening"
TASTING_DAY = dt.date(2026, 3, 12)  # at 18:00 in Helsinki (16:00 UTC; 12:00 in New York, on summer time since 8 March)


@pytest.fixture(scope="module")
def timeline(journey):
    j = journey("event_invitation")
    people = {
        "ten_days": j.person("ten", first_name="Aino"),
        "ten_days_undecided": j.person("undecided", first_name="Liisa"),
        "registers_after_last_chance": j.person("after", first_name="Eero"),
        "new_york": j.person("ny", first_name="Grace", zone=NEW_YORK),
        "two_days_undecided": j.person("two", first_name="Mikko"),
        "two_days_registers": j.person("tworeg", first_name="Satu"),
        "past": j.person("past", first_name="Pekka"),
    }

    def custom(p, name, ts):
        return p.event("custom", ts, name=name, event_ref="tasting-2026", event_name=TASTING,
                       event_date=TASTING_DAY.isoformat(), event_time="18:00", event_time_zone="Europe/Helsinki")

    lines = [p.identify("2026-03-01T08:00:00Z") for p in people.values()]
    for label in ("ten_days", "ten_days_undecided", "registers_after_last_chance", "new_york"):
        lines.append(custom(people[label], "event_invited", "2026-03-02T14:00:00Z"))  # 16:00 Helsinki, 09:00 New York
    lines += [custom(people["ten_days"], "event_registered", "2026-03-03T10:00:00Z"),
              custom(people["new_york"], "event_registered", "2026-03-03T15:00:00Z"),
              custom(people["registers_after_last_chance"], "event_registered", "2026-03-07T10:00:00Z")]
    for label in ("two_days_undecided", "two_days_registers"):
        lines.append(custom(people[label], "event_invited", "2026-03-10T08:00:00Z"))  # 10:00 Helsinki, 2 days before
    lines.append(custom(people["two_days_registers"], "event_registered", "2026-03-10T09:00:00Z"))
    lines.append(custom(people["past"], "event_invited", "2026-03-12T17:00:00Z"))  # an hour after the start
    for label in ("ten_days", "new_york"):
        lines.append(custom(people[label], "event_attended", "2026-03-12T16:05:00Z"))
    return j.cast(people, lines)


def local_at(o, m) -> tuple:
    return (m.local.date(), m.local.strftime("%H:%M"))


def test_ten_days_ahead_invitation_confirmation_tomorrow_reminder_and_thanks_the_morning_after(timeline):
    o = timeline["ten_days"]
    assert [m.stage for m in o.messages] == ["main", "confirmation", "reminder", "thanks"], o
    invitation, confirmation, reminder, thanks = o.messages
    assert local_at(o, invitation) == (dt.date(2026, 3, 2), "16:00"), "the invitation goes at once"
    assert local_at(o, confirmation) == (dt.date(2026, 3, 3), "12:00"), "the confirmation goes at once"
    assert local_at(o, reminder) == (dt.date(2026, 3, 11), "10:00"), o
    assert reminder.subject == f"Tomorrow: {TASTING}", reminder.subject
    assert "tomorrow" in reminder.text and date_shown(TASTING_DAY, reminder.text) and "18:00" in reminder.text, reminder.text
    assert local_at(o, thanks) == (dt.date(2026, 3, 13), "10:00"), "thanks after the event, not at the check-in"
    assert TASTING in thanks.subject
    assert o.ended == ["goal"]


def test_ten_days_ahead_undecided_get_one_reminder_on_day_three_and_nothing_after(timeline):
    o = timeline["ten_days_undecided"]
    assert [m.stage for m in o.messages] == ["main", "last_chance"], o
    last_chance = o.messages[1]
    assert local_at(o, last_chance) == (dt.date(2026, 3, 5), "10:00"), o
    assert TASTING in last_chance.subject and date_shown(TASTING_DAY, last_chance.text), last_chance.text
    assert o.ended == ["completed"]


def test_registering_after_the_last_chance_gets_confirmation_reminder_and_the_recording(timeline):
    o = timeline["registers_after_last_chance"]
    assert [m.stage for m in o.messages] == ["main", "last_chance", "confirmation", "reminder", "recording"], o
    assert [local_at(o, m) for m in o.messages[1:]] == [
        (dt.date(2026, 3, 5), "10:00"), (dt.date(2026, 3, 7), "12:00"), (dt.date(2026, 3, 11), "10:00"),
        (dt.date(2026, 3, 13), "10:00")], o
    assert TASTING in o.messages[-1].content and o.ended == ["completed"]


def test_helsinki_and_new_york_get_the_day_before_reminder_at_their_own_10_00(timeline):
    helsinki = next(m for m in timeline["ten_days"].messages if m.stage == "reminder")
    new_york = next(m for m in timeline["new_york"].messages if m.stage == "reminder")
    assert (helsinki.local.date(), helsinki.local.hour) == (dt.date(2026, 3, 11), 10)
    assert (new_york.local.date(), new_york.local.hour) == (dt.date(2026, 3, 11), 10), timeline["new_york"]
    assert helsinki.at != new_york.at  # the same local hour, seven hours apart
    assert "12:00" in new_york.text and "18:00" not in new_york.text, "the start in the customer's own time"
    assert date_shown(TASTING_DAY, new_york.text)
    ny = timeline["new_york"]
    assert [m.stage for m in ny.messages] == ["main", "confirmation", "reminder", "thanks"], ny
    assert local_at(ny, ny.messages[-1]) == (dt.date(2026, 3, 13), "10:00"), ny


def test_two_days_ahead_no_last_chance_but_a_registrant_is_still_reminded(timeline):
    """Two days before the event the invitation is its own reminder: a last chance on the day before
    would come the day after the invitation (the rule: never sooner than two days after it)."""
    o = timeline["two_days_undecided"]
    assert [m.stage for m in o.messages] == ["main"], o
    assert o.ended == ["completed"]
    r = timeline["two_days_registers"]
    assert [m.stage for m in r.messages] == ["main", "confirmation", "reminder", "recording"], r
    assert local_at(r, r.messages[2]) == (dt.date(2026, 3, 11), "10:00"), r


def test_nobody_gets_an_invitation_reminder_on_or_after_the_event_day(timeline):
    for label, o in timeline.items():
        for m in o.messages:
            if m.stage in ("main", "last_chance", "confirmation", "reminder"):
                assert m.local.date() < TASTING_DAY, f"{label}: {m.stage} on or after the event day\n{o}"
            else:
                assert m.local.date() > TASTING_DAY, f"{label}: {m.stage} before the event was over\n{o}"
        assert o.not_sent == [] and in_quiet_hours_violations(o) == [], f"{label}: {o}"


def test_an_invitation_to_an_event_that_has_begun_sends_nothing(timeline):
    o = timeline["past"]
    assert o.messages == [] and o.not_sent == [], o
    assert o.ended == ["completed"]
