"""One source of quiet hours: the journeys' send-time step and the Send step read the same policy.

Change ``QUIET_HOURS_*`` and the time the send-time step picks is one Send sends at (never defers):
no message falls into a gap between two notions of quiet hours.
"""

from __future__ import annotations

import datetime as dt

import pytest

from polku import clock
from polku.journeys import steps
from polku.messaging.recipient import Recipient
from polku.messaging.send_policy import check_send
from polku.settings import Settings, get_settings

UTC = dt.timezone.utc
PROFILE = {"customer_id": "c1", "traits": {"email": "c1@example.com", "consents": {"email": True},
                                           "time_zone": "Europe/Helsinki"}}


@pytest.fixture
def quiet_hours(monkeypatch):
    """Set QUIET_HOURS_START/END as a deployment would (the settings are read again)."""
    from polku.tracking import profile_store

    monkeypatch.setattr(profile_store, "load", lambda cid: PROFILE)

    def set_(start: int, end: int) -> Settings:
        monkeypatch.setenv("QUIET_HOURS_START", str(start))
        monkeypatch.setenv("QUIET_HOURS_END", str(end))
        get_settings.cache_clear()
        return get_settings()

    yield set_
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize("start, end", [(21, 8), (19, 23), (12, 14), (0, 9)])
def test_send_time_step_never_picks_a_time_send_would_defer(quiet_hours, virtual_clock, start, end):
    from polku.messaging.wiring import send_policy

    settings = quiet_hours(start, end)
    caps, quiet = send_policy(settings)
    recipient = Recipient.from_profile(PROFILE, "c1")
    begin = dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # the virtual clock's start
    for minutes in range(0, 48 * 60, 30):  # every half hour of two days
        virtual_clock.advance_to(begin + dt.timedelta(minutes=minutes))
        answer = steps.run_step({"action": "choose_send_time", "customer_id": "c1"})
        at = clock.now() + dt.timedelta(seconds=answer["wait_seconds"])
        assert answer["send_at"] == clock.to_iso(at)
        decision = check_send(recipient, "email", "journey", at, suppressed=False, caps=caps, quiet=quiet)
        assert decision.action == "send", (minutes, answer, decision)
        assert 0 <= answer["wait_seconds"] <= 24 * 3600


def test_every_function_that_judges_quiet_hours_reads_the_same_settings(template):
    """The journey step (send time) and Send get QUIET_HOURS_* from the same template parameters."""
    env = {lid: template.function_properties(lid)["Environment"]["Variables"]
           for lid in ("SendFunction", "JourneyStepFunction")}
    for key in ("QUIET_HOURS_START", "QUIET_HOURS_END"):
        assert env["JourneyStepFunction"].get(key) == env["SendFunction"][key], key
