"""A segment's members and a campaign's audience, read by a parallel scan of the profiles table.

Each part of a parallel scan (``Segment``/``TotalSegments``) is read by its own worker — a thread
for ``polku segments preview``, a Lambda invocation of the campaign state machine on AWS — so the
work grows with the table and no single process holds it. Every member's plan is pure
(:func:`plan_member`): holdout and A/B variant by stable hash of campaign and customer (the
journeys' rule, ``journeys.runs.in_holdout`` / ``journeys.variants.assign``), and the moment to
send: one time for all, a local time in each recipient's zone, or each recipient's best hour
(``messaging.send_time.choose_send_time``, quiet hours honoured).
"""

from __future__ import annotations

import datetime as _dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Iterator

from polku import clock
from polku.campaigns.definition import Campaign
from polku.campaigns.segments import Segment

MAX_PARTS = 64


@dataclass(frozen=True)
class Member:
    customer_id: str
    variant: str  # "holdout" when kept out
    send_at: str  # ISO UTC

    def item(self) -> dict:
        return {"customer_id": self.customer_id, "variant": self.variant, "send_at": self.send_at}


def scan_part(segment: Segment, part: int, total: int, now: _dt.datetime) -> Iterator[dict]:
    """The profiles of one part of a parallel scan that belong to ``segment`` at ``now``."""
    from polku.journeys.triggers import scan_profiles
    from polku.tracking import profile_store

    if not isinstance(total, int) or not 1 <= total <= MAX_PARTS or not isinstance(part, int) or not 0 <= part < total:
        raise ValueError(f"part: 0 <= part < total_parts <= {MAX_PARTS}, got {part!r} of {total!r}")
    rules = profile_store.rules()
    category_of = profile_store.catalog_category if segment.uses_categories else None
    for profile in scan_profiles(part, total, view=profile_store.from_model):
        if segment.matches(profile, now, rules=rules, category_of=category_of):
            yield profile


@dataclass
class Preview:
    segment: str
    count: int
    sample: list[dict]


def preview(segment: Segment, now: _dt.datetime | None = None, *, parts: int = 4, sample: int = 5) -> Preview:
    """Count the segment's members by a parallel scan (``parts`` threads) and keep a sample."""
    now = now or clock.now()

    def run(part: int) -> tuple[int, list[dict]]:
        n, kept = 0, []
        for profile in scan_part(segment, part, parts, now):
            n += 1
            if len(kept) < sample:
                kept.append(profile)
        return n, kept

    with ThreadPoolExecutor(max_workers=parts) as pool:
        results = list(pool.map(run, range(parts)))
    picked = sorted((p for _, kept in results for p in kept), key=lambda p: p["customer_id"])[:sample]
    return Preview(segment.name, sum(n for n, _ in results), [summary(p, now) for p in picked])


def summary(profile: dict, now: _dt.datetime) -> dict:
    """What a marketer sees of one sample member."""
    from polku.campaigns.segments import current_score

    traits = profile.get("traits") or {}
    return {"customer_id": profile["customer_id"], "first_name": traits.get("first_name"),
            "last_seen": profile.get("last_seen"), "orders": profile.get("orders"),
            "lead_score": round(current_score(profile, now, None), 2), "time_zone": profile.get("time_zone")}


# ---------------------------------------------------------------- the campaign's plan per member
def holdout_key(campaign: Campaign) -> SimpleNamespace:
    """The campaign as ``journeys.runs.in_holdout`` reads a journey (name and holdout share)."""
    return SimpleNamespace(name=campaign.journey, holdout=campaign.holdout)


def send_time(campaign: Campaign, profile: dict, now: _dt.datetime, quiet=None) -> _dt.datetime:
    from polku.messaging.recipient import Recipient
    from polku.messaging.send_time import choose_send_time, zone

    window = campaign.send
    if window.mode == "at":
        return max(clock.parse_iso(window.at), now)
    recipient = Recipient.from_profile(profile)
    tz = recipient.time_zone or campaign.default_time_zone
    if window.mode == "local_time":
        local = _dt.datetime.strptime(window.local_time, "%Y-%m-%dT%H:%M").replace(tzinfo=zone(tz, campaign.default_time_zone))
        return max(local.astimezone(_dt.timezone.utc), now)
    start = max(clock.parse_iso(window.at), now)
    kwargs = {"quiet": quiet} if quiet is not None else {}
    choice = choose_send_time(start, recipient.open_hours, time_zone=tz, window_hours=window.window_hours, **kwargs)
    return clock.parse_iso(choice.iso)


def plan_member(campaign: Campaign, profile: dict, now: _dt.datetime, quiet=None) -> Member:
    from polku.journeys.runs import in_holdout
    from polku.journeys.variants import assign

    cid = profile["customer_id"]
    if in_holdout(holdout_key(campaign), cid):
        return Member(cid, "holdout", clock.to_iso(now))
    variant = assign(cid, campaign.journey, campaign.variants)
    return Member(cid, variant, clock.to_iso(send_time(campaign, profile, now, quiet)))


def group_waves(members: list[dict]) -> list[tuple[str, list[dict]]]:
    """Members to send (holdout left out) grouped by their send time, earliest first; each
    wave's items in customer order (the same audience gives the same waves)."""
    waves: dict[str, list[dict]] = {}
    for m in members:
        if m["variant"] == "holdout":
            continue
        waves.setdefault(m["send_at"], []).append({"customer_id": m["customer_id"], "variant": m["variant"]})
    return [(at, sorted(items, key=lambda i: i["customer_id"])) for at, items in sorted(waves.items())]
