"""Use case: ingest a batch of events.

Each event is validated on its own (:mod:`validation`), normalised
(:mod:`normalise`) and written once (:func:`event_store.put_once`, a conditional
write). The result lists what was accepted (stored now, or the same event stored
before), what was rejected (index, field, reason; an ``event_id`` already taken by a
different event is rejected with field ``event_id`` and ``conflict: true``) and what
must be retried (a storage failure: nothing is lost silently).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from polku import clock
from polku.data import identities
from polku.tracking import event_store
from polku.tracking.event_schema import POLKU_ONLY_TYPES, SERVER_ONLY_TYPES
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

    @property
    def conflicts(self) -> int:
        return sum(1 for r in self.rejected if r.get("conflict"))

    def as_response(self) -> dict:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "retry": self.retry,
        }


# Anyone with a site key can call the public route: naming a customer there is a claim only an
# identity link backs (made by identify with the shop's identity token, docs/privacy.md).
UNLINKED_CUSTOMER = ("names a customer this browser (anonymous_id) is not linked to: identify it with an identity "
                     "token first (the tracker then adds the customer itself); a shop's backend names customers "
                     "through POST /v1/server/events")


def rejection(index: int, event, error: Invalid) -> dict:
    out = {"index": index, "field": error.field, "reason": error.reason}
    if isinstance(event, dict) and isinstance(event.get("event_id"), str) and len(event["event_id"]) <= 128:
        out["event_id"] = event["event_id"]
    return out


def prepare(events: list, received_at: dt.datetime, site_key: str | None = None,
            links: dict[str, str] | None = None, browser: bool = False) -> tuple[list[dict], list[dict]]:
    """Validate and normalise a batch (pure). Returns (items to store, rejections). ``browser``:
    the public route, where the types only a shop's backend or a signed link may record
    (:data:`event_schema.SERVER_ONLY_TYPES`: a consent withdrawal) are refused."""
    received_iso = clock.to_iso(received_at)
    links = links or {}
    items, rejected = [], []
    for i, ev in enumerate(events):
        try:
            ts = validate(ev, received_at)
            if browser and ev["type"] in SERVER_ONLY_TYPES:
                raise Invalid("type", f"{ev['type']} is recorded by the message's signed link or the server API "
                                      "(POST /v1/server/events), not by the public API")
            if browser and ev["type"] in POLKU_ONLY_TYPES:
                raise Invalid("type", f"{ev['type']} is recorded by Polku (the content route and its signed "
                                      "links), not by the public API")
            if browser and ev.get("customer_id") and links.get(ev.get("anonymous_id")) != ev["customer_id"]:
                raise Invalid("customer_id", UNLINKED_CUSTOMER)
        except Invalid as err:
            rejected.append(rejection(i, ev, err))
            continue
        linked = None if ev.get("customer_id") else links.get(ev.get("anonymous_id"))
        items.append(normalise(ev, ts, received_iso, site_key=site_key, linked_customer_id=linked))
    return items, rejected


def conflict_rejection(index: int, event_id: str) -> dict:
    return {"index": index, "event_id": event_id, "field": "event_id", "conflict": True,
            "reason": "is already used by a different event (another sender, customer or body); "
                      "event ids must be unique: derive them from your own order or message id"}


def ingest(events: list, site_key: str | None = None, browser: bool = False) -> IngestResult:
    received_at = clock.now()
    # Whom each browser is linked to: an anonymous event belongs to its customer, and on the public
    # route an event may name only the customer its browser is linked to.
    anonymous = [
        ev["anonymous_id"]
        for ev in events
        if isinstance(ev, dict) and (browser or not ev.get("customer_id")) and is_id(ev.get("anonymous_id"))
    ]
    links = identities.customers_of(anonymous) if anonymous else {}
    items, rejected = prepare(events, received_at, site_key, links, browser)
    refused = {r["index"] for r in rejected}
    # prepare keeps the batch order: the n-th item is the n-th event that passed validation
    index_of = {id(item): i for item, i in zip(items, (i for i in range(len(events)) if i not in refused))}
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
        outcome = outcomes[id(item)]
        index = index_of[id(item)]
        if outcome is None:
            result.retry.append(item["event_id"])
        elif outcome == event_store.CONFLICT:
            result.rejected.append(conflict_rejection(index, item["event_id"]))
        else:
            result.accepted.append(item["event_id"])
            if outcome == event_store.DUPLICATE:
                result.duplicates.append(item["event_id"])
    result.rejected.sort(key=lambda r: r["index"])
    return result


def _store_all(items: list[dict]) -> list[str | None]:
    return [_store(i) for i in items]


def _store(item: dict) -> str | None:
    """stored / duplicate / conflict (:func:`event_store.put_once`); None: storage failed (the client retries)."""
    try:
        return event_store.put_once(item)
    except event_store.StorageUnavailable:
        return None
