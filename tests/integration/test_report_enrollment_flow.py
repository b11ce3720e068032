"""End to end on the twin: a sales user enrols customers, the real nurture journey sends them
mail, and the report counts those runs as entries by enrolment and their messages as sent."""

from __future__ import annotations

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


def test_enrolled_runs_and_their_messages_reach_the_report(twin, tmp_path):
    run = uuid.uuid4().hex[:8]
    ids = [f"flow-{run}-{i}" for i in range(3)]
    for cid in ids:
        ProfileModel(cid, traits={"email": f"{cid}@example.com", "first_name": "Ann"},
                     consents={"email": {"granted": True}}).save()
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
