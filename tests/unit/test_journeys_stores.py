"""Store hours per store, in the store's own time zone, from one stores file."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.journeys import stores
from polku.journeys.stores import StoresError, parse

UTC = dt.timezone.utc


def test_a_new_york_store_is_judged_by_new_york_time():
    nyc, hki = stores.get("nyc-1"), stores.get("hki-1")
    evening_in_ny = dt.datetime(2026, 1, 5, 23, 0, tzinfo=UTC)  # 18:00 New York, 01:00 Helsinki
    assert nyc.is_open(evening_in_ny) and not hki.is_open(evening_in_ny)
    morning_in_ny = dt.datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # 07:00 New York, 14:00 Helsinki
    assert not nyc.is_open(morning_in_ny) and hki.is_open(morning_in_ny)
    assert stores.get("nowhere") is None and stores.get(None) is None


def test_days_ranges_and_closed_days_most_specific_wins():
    s = parse({"stores": {"x": {"time_zone": "Europe/Helsinki",
                                "hours": {"sun": "closed", "daily": "09:00-21:00", "sat": "10:00-16:00"}}}})["x"]
    at = lambda d, h: dt.datetime(2026, 1, d, h, 30, tzinfo=UTC)  # noqa: E731 - 5 Jan 2026 is a Monday; UTC+2
    assert s.is_open(at(5, 7)) and not s.is_open(at(5, 19))  # Mon 09:30 open, 21:30 closed
    assert s.is_open(at(10, 8)) and not s.is_open(at(10, 14))  # Sat 10:30 open, 16:30 closed
    assert not s.is_open(at(11, 10))  # Sunday closed


@pytest.mark.parametrize("store, field", [
    ({"hours": {"daily": "09:00-21:00"}}, "time_zone"),
    ({"time_zone": "Mars/Olympus", "hours": {"daily": "09:00-21:00"}}, "time_zone"),
    ({"time_zone": "UTC"}, "hours"),
    ({"time_zone": "UTC", "hours": {"someday": "09:00-21:00"}}, "day 'someday'"),
    ({"time_zone": "UTC", "hours": {"daily": "9 to 5"}}, "hours.daily"),
    ({"time_zone": "UTC", "hours": {"daily": "21:00-09:00"}}, "closing 09:00 must be after opening 21:00"),
])
def test_a_bad_store_names_the_store_and_field(store, field):
    with pytest.raises(StoresError, match=f"store s1: .*{field}"):
        parse({"stores": {"s1": store}})


def test_the_shipped_stores_file_is_valid():
    assert {"hki-1", "nyc-1"} <= set(stores.load())
