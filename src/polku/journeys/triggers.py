"""The events stream -> journeys: resume waits, stop runs on goal/exit events, start matching journeys.

For each stored tracking event (in stream order):

1. task-token waits of the customer for this event type are resumed;
2. running journeys whose registry lists the type under ``goal`` (exit reason
   ``goal``) or ``exit`` (``stopped``) are stopped — offers they granted are
   revoked first, so nothing stays switched on in the ERP;
3. active journeys whose trigger matches (event type + property filter) are
   entered, honouring re-entry policy and holdout, under a deterministic
   execution name — only for a customer some consented channel reaches when the
   journey says so (``requires_reachable``; outcome ``unreachable``, see runs.enter).

The scheduler does step 3 for scheduled journeys (profile condition).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from polku import clock
from polku.journeys import offers, runs, waits
from polku.journeys.conditions import matches
from polku.journeys.registry import Registry
from polku.journeys.steps import derive_profile, plain, profile_dict


@dataclass
class Outcome:
    resumed: int = 0
    stopped: list[str] = field(default_factory=list)
    entries: dict[str, str] = field(default_factory=dict)  # journey -> EntryResult.outcome
    refused: dict[str, str] = field(default_factory=dict)  # journey -> why the customer is unreachable


def event_from_item(item: dict) -> dict:
    """A stored event (stream image) as the trigger sees it."""
    return {
        "type": item.get("type"),
        "event_id": item.get("event_id"),
        "ts": item.get("client_ts") or item.get("ts"),
        "customer_id": item.get("customer_id"),
        "anonymous_id": item.get("anonymous_id"),
        "properties": plain(item.get("properties") or {}),
    }


def resolve_customer(event: dict) -> str | None:
    if event.get("customer_id"):
        return event["customer_id"]
    if event.get("anonymous_id"):
        from polku.data import identities

        return identities.customer_of(event["anonymous_id"], consistent_read=False)
    return None


def handle_event(event: dict, registry: Registry, sfn, prefix: str, publish) -> Outcome:
    out = Outcome()
    customer_id = resolve_customer(event)
    if not customer_id or not event.get("type"):
        return out
    out.resumed = waits.resume(customer_id, event, sfn)

    for run in runs.running(customer_id):
        journey = registry.journeys.get(run.journey)
        if journey is None:
            continue
        reason = "goal" if event["type"] in journey.goal else "stopped" if event["type"] in journey.exit else None
        if reason is None or run.trigger_event_id == event["event_id"]:
            continue
        if event.get("ts") and run.entered_at and event["ts"] < run.entered_at:
            continue  # happened before this run began
        stop_run(run, reason, f"{event['type']} {event['event_id']}", sfn, publish)
        out.stopped.append(run.journey)

    for journey in registry.active():
        t = journey.trigger
        if t.event != event["type"] or not matches(event, t.where):
            continue
        result = runs.enter(journey, customer_id, event, sfn, prefix)
        out.entries[journey.name] = result.outcome
        if result.outcome == "unreachable":
            out.refused[journey.name] = result.reason or ""
    return out


def stop_run(run, reason: str, cause: str, sfn, publish) -> None:
    for offer in offers.open_offers(run.customer_id, run.execution_arn):
        offers.revoke({"customer_id": run.customer_id, "offer_id": offer.sk.split("#", 1)[1]}, publish, reason=reason)
    try:
        sfn.stop_execution(executionArn=run.execution_arn, error=reason, cause=cause[:256])
    except sfn.exceptions.ExecutionDoesNotExist:
        pass
    runs.mark_exited(run.customer_id, run.journey, run.execution_arn, reason)
    runs.record_stop(run, reason, cause)


def due_journeys(registry: Registry, when: _dt.datetime) -> list:
    """The active scheduled journeys whose schedule is due at ``when``."""
    return [j for j in registry.active() if j.trigger.scheduled and j.trigger.due(when)]


def run_schedule(registry: Registry, profiles, sfn, prefix: str, when: _dt.datetime | None = None,
                 refused: dict[str, int] | None = None) -> dict[str, int]:
    """Enter scheduled journeys that are due this hour for every profile that matches.

    ``profiles`` yields profile views (dicts with traits, counts, last_seen...).
    The trigger id is the journey and the day, so a repeated tick starts nothing twice.
    ``refused`` (if given) counts, per journey, the matching customers no channel reaches.
    """
    when = when or clock.now()
    due = due_journeys(registry, when)
    started = {j.name: 0 for j in due}
    if not due:
        return started
    for view in profiles:
        view = derive_profile(view, when)
        for journey in due:
            if not matches(view, journey.trigger.profile):
                continue
            tick = when.strftime("%Y-%m-%dT%H" if journey.trigger.schedule == "hourly" else "%Y-%m-%d")
            trigger = {"type": "schedule", "event_id": f"{journey.name}:{tick}", "ts": clock.to_iso(when),
                       "properties": {}}
            outcome = runs.enter(journey, view["customer_id"], trigger, sfn, prefix).outcome
            if outcome == "started":
                started[journey.name] += 1
            elif outcome == "unreachable" and refused is not None:
                refused[journey.name] = refused.get(journey.name, 0) + 1
    return started


def scan_profiles(segment: int | None = None, total_segments: int | None = None, view=profile_dict):
    """Customers' profile views, read by a scan of the profiles table (or one segment of a
    parallel scan: ``segment`` of ``total_segments``); anonymous and merged profiles are skipped.
    ``view`` turns a stored item into what the caller reads (default: the journeys' fields)."""
    from polku.data import profiles

    for p in profiles.scan(segment, total_segments):
        if p.customer_id.startswith("anon:") or getattr(p, "merged_into", None):
            continue
        yield view(p)
