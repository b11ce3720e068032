"""Scheduled functions declared in template.yaml run when due on the shared clock."""

from __future__ import annotations

import datetime as dt
from collections import Counter

T0 = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.timezone.utc)


def test_template_schedules_are_due_as_declared(twin):
    ran = twin.run_schedules(T0, T0 + dt.timedelta(days=2))
    per_function = Counter(fn for _, fn, _ in ran)
    assert per_function[twin.names["JourneySchedulerFunction"]] == 48  # cron(0 * * * ? *)
    assert per_function[twin.names["TrainFunction"]] == 2  # cron(30 3 * * ? *)
    times = [t for t, _, _ in ran]
    assert times == sorted(times)
