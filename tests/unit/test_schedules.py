"""EventBridge schedule expressions as the twin evaluates them."""

from __future__ import annotations

import datetime as dt

import pytest

from polku.twin.schedules import Schedule, ScheduleError

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday


def test_hourly_cron():
    due = Schedule("cron(0 * * * ? *)").due_between(T0, T0 + dt.timedelta(hours=3))
    assert due == [T0 + dt.timedelta(hours=h) for h in (1, 2, 3)]


def test_nightly_cron_at_0330():
    due = Schedule("cron(30 3 * * ? *)").due_between(T0, T0 + dt.timedelta(days=2))
    assert due == [dt.datetime(2026, 1, 5, 3, 30, tzinfo=UTC), dt.datetime(2026, 1, 6, 3, 30, tzinfo=UTC)]


def test_day_of_week_names_and_ranges():
    # 09:00 on weekdays (AWS: SUN=1 ... SAT=7)
    due = Schedule("cron(0 9 ? * MON-FRI *)").due_between(T0, T0 + dt.timedelta(days=7))
    assert [d.strftime("%a") for d in due] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


def test_rate():
    due = Schedule("rate(15 minutes)").due_between(T0, T0 + dt.timedelta(hours=1))
    assert len(due) == 4 and due[0] == T0 + dt.timedelta(minutes=15)


@pytest.mark.parametrize("expr", ["rate(5 weeks)", "cron(0 25 * * ? *)", "cron(0 * * *)", "every day"])
def test_bad_expressions_are_refused(expr):
    with pytest.raises(ScheduleError):
        Schedule(expr)
