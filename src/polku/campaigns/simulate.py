"""A campaign on a timeline: the journeys' time-travel simulation, with the campaign started on the way.

The timeline (``polku journeys simulate``'s format: tracking events and identify lines with their
``ts``) is fed into a local twin on a virtual clock; at the campaign's start time the campaign state
machine starts — audience by parallel scan, waves, the Distributed Map, the Send function — and
events after it go on (opens, clicks, purchases). The output is the journeys' happenings format:
one ``message`` line per recipient (subject and text of what was delivered) and ``entered`` /
``exited`` ``holdout`` lines for the customers kept out; the same input gives the same output.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import Iterable

from polku import clock
from polku.campaigns import fanout, segments
from polku.campaigns.definition import Campaign

STEP = "send"


def default_start(campaign: Campaign) -> _dt.datetime:
    """When a run starts: its time, its window's start, or the first moment its local time happens
    anywhere (UTC+14), so that every zone's wave is still ahead."""
    window = campaign.send
    if window.mode in ("at", "best_hour"):
        return clock.parse_iso(window.at)
    local = _dt.datetime.strptime(window.local_time, "%Y-%m-%dT%H:%M")
    return (local - _dt.timedelta(hours=14)).replace(tzinfo=_dt.timezone.utc)


def simulate(campaign: Campaign, segment: segments.Segment, lines: Iterable[str], *, at: _dt.datetime | None = None,
             run_id: str = "simulated", twin=None, found: dict | None = None) -> list[dict]:
    from polku.journeys import simulate as journeys_sim
    from polku.twin import gc_tuning, virtual_time

    events = journeys_sim.parse_timeline(lines)
    at = at or default_start(campaign)
    start = min([e.at for e in events] + [at])
    vclock = clock.VirtualClock(start)
    previous = clock.set_clock(vclock)
    own_twin = twin is None
    try:
        if own_twin:
            from polku.twin.twin import Twin

            twin = Twin(journeys_sim.REPO / "template.yaml").start()
        virtual_time.apply()
        with gc_tuning.tuned(), journeys_sim.InProcess(twin):
            sim = journeys_sim.Simulation([], twin=twin)
            sfn = journeys_sim._client(twin, "stepfunctions")
            arn = None

            def start_campaign():
                body = fanout.start_input(campaign, segment, run_id, clock.to_iso(max(at, vclock.now())))
                return sfn.start_execution(stateMachineArn=twin.outputs["CampaignStateMachineArn"],
                                           name=f"{campaign.name}-{run_id}", input=json.dumps(body))["executionArn"]

            with vclock.actor():
                for ev in events:
                    if arn is None and ev.at > at:
                        vclock.sleep_until(at)
                        arn = start_campaign()
                        vclock.yield_now()
                    vclock.sleep_until(ev.at)
                    sim._feed(ev)
                    vclock.yield_now()
                if arn is None:
                    vclock.sleep_until(at)
                    arn = start_campaign()
            vclock.wait_idle(timeout=3600)
            status = sfn.describe_execution(executionArn=arn)
            if status["status"] != "SUCCEEDED":
                raise journeys_sim.SimulationError(f"campaign {campaign.name}: the run ended {status['status']}: "
                                                   f"{status.get('error')} {status.get('cause', '')[:300]}")
            return collect(twin, campaign, journeys_sim.delivered_messages(twin), found)
    finally:
        if own_twin and twin is not None:
            twin.stop()
        clock.set_clock(previous)


def collect(twin, campaign: Campaign, sent=None, found: dict | None = None) -> list[dict]:
    """The campaign's happenings from the message log and the journey state table (holdout)."""
    from polku.data import journey_state
    from polku.data import messages
    from polku.journeys.simulate import delivered_of, message_content

    rows = []
    for item in journey_state.of_journey(campaign.journey):
        if item.status == "holdout":
            base = {"at": item.entered_at, "customer_id": item.customer_id, "journey": campaign.journey}
            rows.append({**base, "kind": "entered", "variant": "holdout"})
            rows.append({**base, "kind": "exited", "reason": "holdout"})
    for m in messages.of_journey(campaign.journey):
        line = {"at": m.sent_at or m.updated_at or m.created_at, "customer_id": m.customer_id, "journey": campaign.journey,
                "kind": "message", "state": STEP, "template": m.template, "stage": "main", "channel": m.channel,
                "status": m.status, "variant": m.variant, "message_id": m.message_id}
        if m.reason:
            line["reason"] = m.reason
        if m.subject:
            line["subject"] = m.subject
        if m.status == "sent":
            d = delivered_of(sent, {"message_id": m.message_id, "channel": m.channel, "provider_id": m.provider_id})
            line.update(message_content(d))
            if d is not None and found is not None:
                found[m.message_id] = d
        rows.append(line)
    order = {"entered": 0, "message": 1, "exited": 2}
    rows.sort(key=lambda r: (r["at"], r["customer_id"], order[r["kind"]]))
    return rows
