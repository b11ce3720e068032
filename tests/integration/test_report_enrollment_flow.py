"""End to end on the twin: a sales user enrols customers, the real nurture journey sends them
mail, and the report counts those runs as entries by enrolment and their messages as sent."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest

from polku.data.profiles import ProfileModel
from polku.enrollment.twin_access import enroll_and_wait, principal_client
from polku.reporting import figures
from polku.reporting.build import collect
from polku.settings import get_settings

pytestmark = pytest.mark.twin


def daytime_zone(now: dt.datetime) -> str:
    """A fixed-offset zone where ``now`` is about noon: this test runs on the real clock, and a
    customer whose local time is in quiet hours (21-08) would rightly get a deferred message."""
    offset = (12 - now.hour + 12) % 24 - 12  # -12..11 hours east of UTC
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"  # the Etc zones' signs are inverted


def test_daytime_zone_puts_now_at_noon():
    from zoneinfo import ZoneInfo

    for hour in range(24):
        now = dt.datetime(2026, 12, 3, hour, 30, tzinfo=dt.timezone.utc)
        assert now.astimezone(ZoneInfo(daytime_zone(now))).hour == 12, hour


def test_enrolled_runs_and_their_messages_reach_the_report(twin, tmp_path):
    run = uuid.uuid4().hex[:8]
    ids = [f"flow-{run}-{i}" for i in range(3)]
    zone = daytime_zone(dt.datetime.now(dt.timezone.utc))
    for cid in ids:
        ProfileModel(cid, traits={"email": f"{cid}@example.com", "first_name": "Ann"},
                     consents={"email": {"granted": True}}, time_zone=zone).save()
    sales = principal_client(twin, f"arn:aws:iam::123456789012:user/sales-{run}", ["sales"])
    progress = enroll_and_wait(sales, "nurture", ids, role="sales", overrides={"intro": "Lovely to meet you"})
    assert progress["counts"]["started"] == 3

    deadline = time.monotonic() + 60
    while True:
        messages, events, runs, enrollment_ids = collect(twin.client("dynamodb"), get_settings())
        ours = [m for m in messages if m.customer_id in ids]
        if len([m for m in ours if m.sent]) >= 3 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len([m for m in ours if m.sent]) >= 3, [(m.customer_id, m.status) for m in ours]
    assert {m.journey for m in ours} == {"nurture"}
    our_runs = [r for r in runs if r.customer_id in ids]
    assert {figures.entry_reason(r, enrollment_ids) for r in our_runs} == {"enrollment"}
    fig = figures.compute(ours, [], our_runs, enrollment_ids)
    assert fig["entries"]["nurture"] == {"enrollment": 3}
    assert fig["funnel"]["nurture"][0] == {"step": "entered", "customers": 3}
    assert fig["funnel"]["nurture"][1]["customers"] == 3
    json.dumps(fig)  # the figures are JSON as they are
