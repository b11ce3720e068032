"""Use case: ingest a batch of events.

Each event is validated on its own (:mod:`validation`), normalised
(:mod:`normalise`) and written once (:func:`event_store.put_new`, a conditional
write). The result lists what was accepted (stored now or already stored),
what was rejected (index, field, reason) and what must be retried (a storage
failure: nothing is lost silently).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from polku import clock
from polku.tracking import event_store, identity
from polku.tracking.normalise import normalise
from polku.tracking.validation import Invalid, is_id, validate


# Conditional writes of one batch go out in parallel across subjects (a warm Lambda keeps the
# pool); one subject's events are written in order, so they do not race for one profile.
WRITERS = 8
_pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="polku-ingest")


@dataclass
class IngestResult:
    accepted: list[str] = field(default_factory=list)  # stored now, or stored before (duplicates)
    duplicates: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    retry: list[str] = field(default_factory=list)  # storage failed; send these again

    def as_response(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "retry": self.retry,
        }


def rejection(index: int, event, error: Invalid) -> dict:
    out = {"index": index, "field": error.field, "reason": error.reason}
    if isinstance(event, dict) and isinstance(event.get("event_id"), str) and len(event["event_id"]) <= 128:
        out["event_id"] = event["event_id"]
    return out


def prepare(events: list, received_at: dt.datetime, site_key: str | None = None,
            links: dict[str, str] | None = None) -> tuple[list[dict], list[dict]]:
    """Validate and normalise a batch (pure). Returns (items to store, rejections)."""
    received_iso = clock.to_iso(received_at)
    links = links or {}
    items, rejected = [], []
    for i, ev in enumerate(events):
        try:
            ts = validate(ev, received_at)
        except Invalid as err:
            rejected.append(rejection(i, ev, err))
            continue
        linked = None if ev.get("customer_id") else links.get(ev.get("anonymous_id"))
        items.append(normalise(ev, ts, received_iso, site_key=site_key, linked_customer_id=linked))
    return items, rejected


def ingest(events: list, site_key: str | None = None) -> IngestResult:
    received_at = clock.now()
    anonymous = [
        ev["anonymous_id"]
        for ev in events
        if isinstance(ev, dict) and not ev.get("customer_id") and is_id(ev.get("anonymous_id"))
    ]
    links = identity.customers_of(anonymous) if anonymous else {}
    items, rejected = prepare(events, received_at, site_key, links)
    result = IngestResult(rejected=rejected)
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item["subject"], []).append(item)
    if len(groups) > 1:
        written = dict(zip(groups, _pool.map(_store_all, groups.values())))
    else:
        written = {s: _store_all(g) for s, g in groups.items()}
    outcomes = {}
    for subject, group in groups.items():
        for item, stored in zip(group, written[subject]):
            outcomes[id(item)] = stored
    for item in items:
        stored = outcomes[id(item)]
        if stored is None:
            result.retry.append(item["event_id"])
            continue
        result.accepted.append(item["event_id"])
        if not stored:
            result.duplicates.append(item["event_id"])
    return result


def _store_all(items: list[dict]) -> list[bool | None]:
    return [_store(i) for i in items]


def _store(item: dict) -> bool | None:
    """True: stored now; False: stored before; None: storage failed (the client retries)."""
    try:
        return event_store.put_new(item)
    except event_store.StorageUnavailable:
        return None
