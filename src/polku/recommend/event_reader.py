"""Events table adapter: one customer's recent events (``by_subject`` index) and all events
for training (scan)."""

from __future__ import annotations

from typing import Iterator

from polku.data.events import EventModel

RECENT_EVENTS = 500


def _as_dict(e: EventModel) -> dict:
    return {"event_id": e.event_id, "subject": e.subject, "type": e.type, "client_ts": e.client_ts,
            "customer_id": e.customer_id, "properties": e.properties.as_dict() if e.properties else {}}


def customer_events(customer_id: str, limit: int = RECENT_EVENTS) -> list[dict]:
    """The customer's latest ``limit`` events, oldest first."""
    events = [_as_dict(e) for e in EventModel.by_subject.query(f"c#{customer_id}", scan_index_forward=False, limit=limit)]
    events.reverse()
    return events


def all_events(types: set[str] | None = None) -> Iterator[dict]:
    for e in EventModel.scan():
        if types is None or e.type in types:
            yield _as_dict(e)
