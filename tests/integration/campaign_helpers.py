"""Helpers of the campaign tests: a tagged audience in the twin's profiles table, a campaign for it,
its execution on the twin's campaign state machine, and what was sent."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

from polku.campaigns import definition, fanout, segments
from polku.data.messages import MessageModel
from polku.data.profiles import ProfileModel  # noqa: F401 - the tests write profiles through it

STARTED_AT = "2026-04-14T06:00:00Z"


def move_clock(virtual_clock, iso: str) -> None:
    """Move the test's virtual clock (tests/conftest.py) to the campaign's day; quiet hours defer some
    recipients, and their batches wait on this clock."""
    from polku import clock

    virtual_clock.advance_to(clock.parse_iso(iso))


def tag() -> str:
    return "t" + uuid.uuid4().hex[:10]


def audience(tag_: str, n: int, *, consent_every: int = 1) -> list[str]:
    """n customers of batch ``tag_`` (e-mail with consent for every ``consent_every``-th)."""
    ids = [f"{tag_}-{i:05d}" for i in range(n)]
    zones = ["Europe/Helsinki", "Europe/Prague", "America/New_York"]
    with ProfileModel.batch_write() as batch:
        for i, cid in enumerate(ids):
            batch.save(ProfileModel(
                cid, traits={"email": f"{cid}@example.com", "batch": tag_, "first_name": f"N{i}"},
                consents={"email": {"granted": i % consent_every == 0}}, time_zone=zones[i % 3], locale="en",
                last_seen="2026-04-01T00:00:00Z"))
    return ids


def campaign(tag_: str, **over) -> tuple[definition.Campaign, segments.Segment]:
    seg = segments.parse({"name": f"seg_{tag_}", "all": [{"trait": {"name": "batch", "eq": tag_}}, {"consent": "email"}]})
    doc = {"name": f"c_{tag_}", "segment": seg.name, "template": "spring_newsletter", "channel": "email",
           "send": {"at": STARTED_AT}, "variants": {"A": 0.5, "B": 0.5}, "holdout": 0.1, **over}
    return definition.parse(doc), seg


def start(twin, camp, seg, run_id: str = "r1", parts: int = 4, started_at: str = STARTED_AT) -> str:
    sfn = twin.client("stepfunctions")
    body = fanout.start_input(camp, seg, run_id, started_at, parts)
    return sfn.start_execution(stateMachineArn=twin.outputs["CampaignStateMachineArn"], name=f"{camp.name}-{run_id}",
                               input=json.dumps(body))["executionArn"]


def wait_done(twin, arn: str, timeout: float = 600) -> dict:
    sfn = twin.client("stepfunctions")
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        time.sleep(0.2)
    raise AssertionError(f"{arn} still running after {timeout} s")


def messages(camp) -> list:
    return list(MessageModel.by_journey.query(camp.journey))


def per_customer(camp, status: str = "sent") -> Counter:
    return Counter(m.customer_id for m in messages(camp) if m.status == status)
