"""Quiet hours are a setting: a marketer who sets them to 20-09 gets no message between 20:00 and
09:00 local in any journey step, and loses none (the send-time choice and the send itself follow
the same setting)."""

from __future__ import annotations

import pytest

from polku.messaging.send_time import QuietHours

EVENING_QUIET = QuietHours(start=20, end=9)


@pytest.fixture(scope="module")
def cast(journey, catalogue):
    from polku.settings import get_settings

    ids = catalogue({"Lingonberry Jam": 4.2})
    j = journey("abandoned_cart")
    people = {"shops_at_noon": j.person("aino", first_name="Aino"),
              "shops_at_2030": j.person("noora", first_name="Noora")}
    lines = [p.identify("2026-01-05T07:00:00Z") for p in people.values()]
    lines.append(people["shops_at_noon"].event("add_to_cart", "2026-01-05T10:00:00Z", product_id=ids["Lingonberry Jam"],
                                               quantity=1, price=4.2))
    lines.append(people["shops_at_2030"].event("add_to_cart", "2026-01-05T18:30:00Z", product_id=ids["Lingonberry Jam"],
                                               quantity=1, price=4.2))
    with pytest.MonkeyPatch.context() as mp:  # the handlers read the settings when they run
        mp.setenv("QUIET_HOURS_START", "20")
        mp.setenv("QUIET_HOURS_END", "9")
        get_settings.cache_clear()
        try:
            return j.cast(people, lines)
        finally:
            mp.undo()
            get_settings.cache_clear()


def test_no_message_between_20_and_09_local_when_the_setting_says_so(cast):
    assert sum(len(o.messages) for o in cast.values()) >= 4, "\n".join(map(str, cast.values()))
    for label, o in cast.items():
        assert [m for m in o.messages if EVENING_QUIET.contains(m.local)] == [], f"{label}: {o}"


def test_no_message_is_lost_to_the_changed_quiet_hours(cast):
    for label, o in cast.items():
        assert o.not_sent == [] and len(o.messages) == 2, f"{label}: {o}"
