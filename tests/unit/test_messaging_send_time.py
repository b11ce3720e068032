"""Send-time choice, table-driven (now = Monday 2026-01-05 08:00 UTC = 10:00 in Helsinki)."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.messaging.send_time import QuietHours, choose_send_time

NOW = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)  # a Monday


def hist(**hours):
    """hist(h14=5): counts at UTC hour-of-week 14 (Monday 14:00 UTC)."""
    h = [0.0] * 168
    for k, v in hours.items():
        h[int(k[1:])] = v
    return h


CASES = [
    # name, now, histogram, time zone, window, expected ISO, reason
    ("no history, Helsinki: population's evening peak (20 local), earliest of ties",
     NOW, hist(), "Europe/Helsinki", 24, "2026-01-05T18:00:00.000Z", "best_hour"),
    ("no history, UTC: 08 local ties with 20 local, the earliest (now) wins",
     NOW, hist(), "UTC", 24, "2026-01-05T08:00:00.000Z", "best_hour"),
    ("unknown time zone is UTC", NOW, hist(), "Mars/Olympus", 24, "2026-01-05T08:00:00.000Z", "best_hour"),
    ("strong history at Monday 14 UTC wins", NOW, hist(h14=20), "Europe/Helsinki", 24, "2026-01-05T14:00:00.000Z",
     "best_hour"),
    ("one open is too little: population decides", NOW, hist(h12=1), "Europe/Helsinki", 24, "2026-01-05T18:00:00.000Z",
     "best_hour"),
    ("a few opens at the same hour outweigh the population", NOW, hist(h12=4), "Europe/Helsinki", 24,
     "2026-01-05T12:00:00.000Z", "best_hour"),
    ("history in quiet hours (22 local) is not used", NOW, hist(h20=50), "Europe/Helsinki", 24,
     "2026-01-05T18:00:00.000Z", "best_hour"),
    ("best hour outside the window is not used", NOW, hist(h40=50), "Europe/Helsinki", 24, "2026-01-05T18:00:00.000Z",
     "best_hour"),
    ("a longer window reaches Tuesday 16 UTC", NOW, hist(h40=50), "Europe/Helsinki", 48, "2026-01-06T16:00:00.000Z",
     "best_hour"),
    ("window entirely in quiet hours: the end of quiet hours",
     dt.datetime(2026, 1, 5, 20, 0, tzinfo=dt.timezone.utc), hist(), "Europe/Helsinki", 3, "2026-01-06T06:00:00.000Z",
     "quiet_hours_end"),
    ("a slot later in the current hour is not invented: now counts",
     dt.datetime(2026, 1, 5, 14, 30, tzinfo=dt.timezone.utc), hist(h14=20), "Europe/Helsinki", 24,
     "2026-01-05T14:30:00.000Z", "best_hour"),
]


@pytest.mark.parametrize("name, now, h, tz, window, expected, reason", CASES, ids=[c[0] for c in CASES])
def test_send_time(name, now, h, tz, window, expected, reason):
    choice = choose_send_time(now, h, time_zone=tz, window_hours=window)
    assert (choice.iso, choice.reason) == (expected, reason)
    assert now <= choice.at


def test_result_is_inside_window_and_not_quiet_for_every_hour_of_the_week():
    quiet = QuietHours(21, 8)
    for offset in range(0, 168, 5):
        now = NOW + dt.timedelta(hours=offset, minutes=17)
        choice = choose_send_time(now, hist(h3=9, h100=4), time_zone="America/New_York", quiet=quiet)
        local = choice.at.astimezone(__import__("zoneinfo").ZoneInfo("America/New_York"))
        assert not quiet.contains(local)
        if choice.reason == "best_hour":
            assert now <= choice.at < now + dt.timedelta(hours=24)


def test_bad_arguments():
    with pytest.raises(ValueError):
        choose_send_time(NOW, [0] * 24)
    with pytest.raises(ValueError):
        choose_send_time(NOW, hist(), window_hours=0)
