"""The event invitation's timeline (the ``event_details`` journey step): every wait follows the
event's date in the customer's time zone. The profile read is the only thing replaced (the edge);
the journey itself runs in tests/acceptance/test_event_invitation_outcomes.py."""

import datetime as dt

import pytest

from polku.journeys.steps import StepInputError, run_step

UTC = dt.timezone.utc


@pytest.fixture
def customer_in(monkeypatch):
    from polku.tracking import profile_store

    def set_zone(zone):
        monkeypatch.setattr(profile_store, "load", lambda key: {"customer_id": key, "time_zone": zone})
    return set_zone


def details(**props):
    return run_step({"action": "event_details", "customer_id": "c1",
                     "trigger": {"properties": {"event_name": "Tasting", **props}}})


def test_ten_days_ahead_last_chance_on_day_three_reminder_the_day_before_thanks_the_morning_after(virtual_clock, customer_in):
    customer_in("Europe/Helsinki")
    virtual_clock.advance_to(dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    d = details(event_date="2026-03-12", event_time="18:00")
    assert d["past"] is False and d["day"] == "2026-03-12" and d["starts_local"] == "18:00"
    assert d["starts_at"] == "2026-03-12T16:00:00.000Z"
    assert d["last_chance"] is True and d["last_chance_at"] == "2026-03-05T08:00:00.000Z"  # 10:00 Helsinki
    assert d["invitation_wait_until"] == d["last_chance_at"]
    assert d["registration_until"] == d["starts_at"]
    assert d["reminder"] is True and d["reminder_at"] == "2026-03-11T08:00:00.000Z"
    assert d["after_event_at"] == "2026-03-13T08:00:00.000Z"


def test_the_same_event_for_a_new_york_customer_is_timed_in_new_york(virtual_clock, customer_in):
    customer_in("America/New_York")
    virtual_clock.advance_to(dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    d = details(event_date="2026-03-12", event_time="18:00", event_time_zone="Europe/Helsinki")
    assert d["starts_at"] == "2026-03-12T16:00:00.000Z" and d["starts_local"] == "12:00"  # EDT since 8 March
    assert d["reminder_at"] == "2026-03-11T14:00:00.000Z" and d["after_event_at"] == "2026-03-13T14:00:00.000Z"
    assert d["time_zone"] == "America/New_York"


@pytest.mark.parametrize("invited, event_date, last_chance", [
    ("2026-03-10T08:00:00Z", "2026-03-12", None),  # 2 days ahead: the day before is only one day later
    ("2026-03-09T08:00:00Z", "2026-03-12", "2026-03-11T08:00:00.000Z"),  # 3 days: the day before
    ("2026-03-08T08:00:00Z", "2026-03-12", "2026-03-11T08:00:00.000Z"),  # 4 days: day 3 is the day before
    ("2026-03-01T08:00:00Z", "2026-03-12", "2026-03-04T08:00:00.000Z"),  # 11 days: day 3
])
def test_the_last_chance_is_never_on_the_event_day_nor_the_day_after_the_invitation(
        virtual_clock, customer_in, invited, event_date, last_chance):
    customer_in("Europe/Helsinki")
    virtual_clock.advance_to(dt.datetime.fromisoformat(invited.replace("Z", "+00:00")))
    d = details(event_date=event_date)
    assert d["last_chance_at"] == last_chance and d["last_chance"] is (last_chance is not None)
    # without a time, registration counts until the end of the event day (local)
    assert d["registration_until"] == "2026-03-12T22:00:00.000Z"
    assert d["invitation_wait_until"] == (last_chance or d["registration_until"])


def test_an_event_that_has_begun_or_whose_day_is_over_is_past(virtual_clock, customer_in):
    customer_in("Europe/Helsinki")
    virtual_clock.advance_to(dt.datetime(2026, 3, 12, 17, 0, tzinfo=UTC))
    assert details(event_date="2026-03-12", event_time="18:00")["past"] is True  # began at 16:00 UTC
    assert details(event_date="2026-03-12")["past"] is False  # still its day in Helsinki (19:00)
    assert details(event_date="2026-03-11")["past"] is True
    assert details(event_date="2026-03-12T15:00:00Z")["past"] is True


def test_registered_on_the_day_before_gets_no_separate_reminder(virtual_clock, customer_in):
    customer_in("Europe/Helsinki")
    virtual_clock.advance_to(dt.datetime(2026, 3, 11, 6, 0, tzinfo=UTC))  # 08:00 the day before
    assert details(event_date="2026-03-12", event_time="18:00")["reminder"] is False  # the confirmation is it
    virtual_clock.advance_to(dt.datetime(2026, 3, 12, 7, 0, tzinfo=UTC))  # the event day
    assert details(event_date="2026-03-12", event_time="18:00")["reminder"] is False


def test_registered_two_days_before_is_reminded(virtual_clock, customer_in):
    customer_in("Europe/Helsinki")
    virtual_clock.advance_to(dt.datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # 22:00 two days before
    assert details(event_date="2026-03-12", event_time="18:00")["reminder"] is True


@pytest.mark.parametrize("props, field", [
    ({}, "trigger.properties.event_date: required"),
    ({"event_date": "next friday"}, "trigger.properties.event_date: not a date"),
    ({"event_date": "2026-03-12", "event_time": "6pm"}, "trigger.properties.event_time"),
    ({"event_date": "2026-03-12", "event_time": "25:00"}, "trigger.properties.event_time"),
    ({"event_date": "2026-03-12", "event_time": "18:00", "event_time_zone": "Mars/Olympus"},
     "trigger.properties.event_time_zone"),
    ({"event_date": "2026-07-01"}, "trigger.properties.event_date: more than 90 days away"),
])
def test_bad_event_input_names_the_field(virtual_clock, customer_in, props, field):
    customer_in("Europe/Helsinki")
    virtual_clock.advance_to(dt.datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    with pytest.raises(StepInputError, match=field.replace(".", r"\.")):
        run_step({"action": "event_details", "customer_id": "c1", "trigger": {"properties": props}})
