"""The campaign state machine's own steps (the Campaign function): the audience and its send waves.

``statemachines/campaign.asl.json`` runs:

1. ``audience_part`` for every part of a parallel scan of the profiles table (an inline Map, one
   Lambda per part): the part's segment members, each planned (holdout, variant, send time), are
   written to ``s3://<bucket>/campaigns/<name>/<run>/parts/NNN.json``; holdout members are recorded
   in the journey state table (``campaign#<name>#<run>``, status ``holdout``) for the report's lift;
2. ``plan_waves``: the members grouped by send time into waves, one S3 object per wave
   (``waves/NNN.json``, a JSON array of ``{customer_id, variant}``);
3. per wave: a Wait until its time, then a Distributed Map reads the wave's object (ItemReader),
   hands batches to the Send function (ItemBatcher, bounded concurrency, tolerated failures) and
   writes the results under ``results/`` (ResultWriter); the Send function grants the campaign's
   offer (OffersBus ``OfferGranted``) before each message;
4. with an offer: a Wait until ``offer_ends_at`` (the last wave plus ``valid_days``), then per wave a
   Distributed Map hands batches to ``revoke_offers`` (``OfferRevoked``, reason ``expired``).

Every step is a function of the execution input (the campaign and segment as the CLI read them
from their files, the run id and the start time), so a retried or redriven step writes the same
objects again.
"""

from __future__ import annotations

import json
from typing import Any

from polku import clock
from polku.campaigns import audience, segments
from polku.campaigns.definition import Campaign, CampaignError, from_dict
from polku.campaigns.sending import check_run_id

STATE_KEY = "campaign#{name}#{run}"


def prefix(campaign: Campaign, run_id: str) -> str:
    return f"campaigns/{campaign.name}/{run_id}/"


def start_input(campaign: Campaign, segment: segments.Segment, run_id: str, started_at: str, parts: int = 4) -> dict:
    """The campaign state machine's execution input (what ``polku campaigns send`` starts)."""
    check_run_id(run_id)
    if campaign.segment != segment.name:
        raise CampaignError(f"segment: the campaign names {campaign.segment!r}, got {segment.name!r}")
    if not 1 <= parts <= audience.MAX_PARTS:
        raise CampaignError(f"parts: 1 to {audience.MAX_PARTS}")
    return {"campaign": campaign.to_dict(), "segment": {"name": segment.name, **segment.rule}, "run_id": run_id,
            "started_at": started_at, "parts": list(range(parts)), "total_parts": parts}


def _common(event: Any) -> tuple[Campaign, str, str, Any]:
    if not isinstance(event, dict):
        raise CampaignError("input: must be an object")
    campaign = from_dict(event.get("campaign"))
    run_id = check_run_id(event.get("run_id"))
    bucket = event.get("bucket")
    if not isinstance(bucket, str) or not bucket:
        raise CampaignError("bucket: required (the campaign bucket)")
    try:
        started = clock.parse_iso(event.get("started_at"))
    except (TypeError, ValueError):
        raise CampaignError(f"started_at: an ISO-8601 time, got {event.get('started_at')!r}") from None
    return campaign, run_id, bucket, started


def audience_part(event: Any, s3) -> dict:
    from polku.data import journey_state
    from polku.messaging.wiring import send_policy
    from polku.settings import get_settings

    campaign, run_id, bucket, started = _common(event)
    segment = segments.parse(event.get("segment"), name=campaign.segment, path="segment")
    part, total = event.get("part"), event.get("total_parts")
    if isinstance(part, bool) or isinstance(total, bool) or not isinstance(part, int) or not isinstance(total, int) \
            or not 1 <= total <= audience.MAX_PARTS or not 0 <= part < total:
        raise CampaignError(f"part, total_parts: 0 <= part < total_parts <= {audience.MAX_PARTS}, got {part!r}, {total!r}")
    _, quiet = send_policy(get_settings())
    members = [audience.plan_member(campaign, p, started, quiet).item()
               for p in audience.scan_part(segment, part, total, started)]
    held = [m for m in members if m["variant"] == "holdout"]
    for m in held:  # the report's holdout (same item on a retry)
        journey_state.put(m["customer_id"], STATE_KEY.format(name=campaign.name, run=run_id), journey=campaign.journey,
                          status="holdout", variant="holdout", entered_at=m["send_at"], trigger_event_id=run_id)
    key = f"{prefix(campaign, run_id)}parts/{part:03d}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(members, separators=(",", ":")).encode(),
                  ContentType="application/json")
    return {"part": part, "key": key, "members": len(members), "holdout": len(held)}


def plan_waves(event: Any, s3) -> dict:
    campaign, run_id, bucket, _ = _common(event)
    total = event.get("total_parts")
    if isinstance(total, bool) or not isinstance(total, int) or not 1 <= total <= audience.MAX_PARTS:
        raise CampaignError(f"total_parts: 1 to {audience.MAX_PARTS}")
    base = prefix(campaign, run_id)
    members: list[dict] = []
    for part in range(total):
        body = s3.get_object(Bucket=bucket, Key=f"{base}parts/{part:03d}.json")["Body"].read()
        members.extend(json.loads(body))
    waves = []
    for i, (at, items) in enumerate(audience.group_waves(members)):
        key = f"{base}waves/{i:03d}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(items, separators=(",", ":")).encode(),
                      ContentType="application/json")
        waves.append({"at": at, "key": key, "count": len(items)})
    holdout = sum(1 for m in members if m["variant"] == "holdout")
    plan = {"bucket": bucket, "waves": waves, "wave_count": len(waves), "audience": len(members),
            "holdout": holdout, "recipients": len(members) - holdout, "results_prefix": f"{base}results",
            "offer_ends_at": None}
    if campaign.offer and waves:  # every wave's offers are switched off together, once the last one's ran out
        import datetime as _dt

        ends = clock.parse_iso(waves[-1]["at"]) + _dt.timedelta(days=campaign.offer["valid_days"])
        plan["offer_ends_at"] = clock.to_iso(ends)
    return plan
