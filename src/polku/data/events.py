"""Tracking events: one item per accepted event, keyed by its event id (dedupe by
conditional write); the ``by_subject`` index lists one customer's or one anonymous
visitor's events in time order."""

from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data.base import PolkuModel, get_or_none, put_once


class BySubject(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_subject"
        projection = AllProjection()

    subject = UnicodeAttribute(hash_key=True)
    ts = UnicodeAttribute(range_key=True)


class EventModel(PolkuModel):
    settings_field = "events_table"

    class Meta:
        table_name = "set-from-settings"

    event_id = UnicodeAttribute(hash_key=True)
    subject = UnicodeAttribute()  # "c#<customer_id>" or "a#<anonymous_id>"
    ts = UnicodeAttribute()  # "<client ISO time>#<event_id>": time order, unique
    type = UnicodeAttribute()
    site_key = UnicodeAttribute(null=True)
    anonymous_id = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    client_ts = UnicodeAttribute()
    received_at = UnicodeAttribute()
    properties = MapAttribute(null=True)
    context = MapAttribute(null=True)  # locale, time_zone, url, referrer, user_agent, library
    expires_at = NumberAttribute(null=True)
    by_subject = BySubject()


# -- the table's reads and writes (every module reaches the events table through these) -------
RECENT_EVENTS = 500


def add(item: dict) -> bool:
    """Store one normalised event unless its ``event_id`` is taken (True) or already stored (False)."""
    return put_once(EventModel(**item), EventModel.event_id.does_not_exist())


def store_all(items: list[dict]) -> int:
    """Write these events unconditionally in batches (seeding: no dedupe); returns how many."""
    with EventModel.batch_write() as batch:
        for item in items:
            batch.save(EventModel(**item))
    return len(items)


def get(event_id: str) -> dict | None:
    """One stored event (every attribute), read consistently, or None."""
    item = get_or_none(EventModel, event_id, consistent_read=True)
    return as_dict(item) if item is not None else None


def as_dict(model: EventModel) -> dict:
    """A stored event as a plain dict of its attributes (absent ones left out)."""
    out = {}
    for name in EventModel.get_attributes():
        value = getattr(model, name)
        if value is None:
            continue
        if hasattr(value, "as_dict"):
            value = value.as_dict()
        out[name] = value
    return out


def of_subject(subject: str) -> Iterator[dict]:
    """One subject's events (``c#<customer>`` or ``a#<anonymous id>``) in time order."""
    for m in EventModel.by_subject.query(subject):
        yield as_dict(m)


def has_subject(subject: str) -> bool:
    """True when the subject has at least one stored event (one read of the index)."""
    return any(True for _ in EventModel.by_subject.query(subject, limit=1))


def of_subject_after(subject: str, after_ts: str) -> Iterator[EventModel]:
    """The subject's events whose ``ts`` sorts after ``after_ts``, in time order."""
    return EventModel.by_subject.query(subject, EventModel.ts > after_ts)


def delete(event_ids: Iterable[str]) -> int:
    """Delete these events (batch writes); returns how many ids were given."""
    n = 0
    with EventModel.batch_write() as batch:
        for event_id in event_ids:
            batch.delete(EventModel(event_id))
            n += 1
    return n


def brief(e: EventModel) -> dict:
    """The fields the recommender and message content read from an event."""
    return {"event_id": e.event_id, "subject": e.subject, "type": e.type, "client_ts": e.client_ts,
            "customer_id": e.customer_id, "properties": e.properties.as_dict() if e.properties else {}}


def latest_of_subject(subject: str, limit: int) -> list[dict]:
    """The subject's latest ``limit`` events (:func:`brief`), newest first."""
    return [brief(e) for e in EventModel.by_subject.query(subject, scan_index_forward=False, limit=limit)]


def customer_events(customer_id: str, limit: int = RECENT_EVENTS) -> list[dict]:
    """The customer's latest ``limit`` events (:func:`brief`), oldest first."""
    events = latest_of_subject(f"c#{customer_id}", limit)
    events.reverse()
    return events


def all_events(types: set[str] | None = None) -> Iterator[dict]:
    """Every stored event (:func:`brief`) of ``types`` (all when None), by a scan (training)."""
    for e in EventModel.scan():
        if types is None or e.type in types:
            yield brief(e)
