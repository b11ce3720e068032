"""Adapter: the events table (PynamoDB). Stores an event once, lists a subject's events in time order."""

from __future__ import annotations

from typing import Iterable, Iterator

from pynamodb.exceptions import PutError

from polku.data import base
from polku.data.events import EventModel
from polku.tracking.normalise import same_event


class StorageUnavailable(RuntimeError):
    """The table refused a write for a reason other than "already there" (throttling, outage)."""


def put_new(item: dict) -> bool:
    """Write one normalised event unless its id is already stored. True when written.

    The condition is part of the write (``attribute_not_exists(event_id)``), so two
    concurrent posts of the same event cannot both store it.
    """
    try:
        return base.put_once(EventModel(**item), EventModel.event_id.does_not_exist())
    except PutError as exc:
        raise StorageUnavailable(str(exc)) from exc


STORED, DUPLICATE, CONFLICT = "stored", "duplicate", "conflict"


def put_once(item: dict, *, server_time: bool = False) -> str:
    """Write one normalised event once. Returns ``stored`` (written now), ``duplicate`` (the
    same event was stored before: a retry) or ``conflict`` (its ``event_id`` is taken by a
    *different* event — another sender, subject or body; nothing is written).

    Event ids are one table-wide key, so a sender cannot be trusted to own an id: only a
    resend of the same event counts as a duplicate (:func:`normalise.same_event`).
    """
    for _ in range(2):
        if put_new(item):
            return STORED
        previous = get(item["event_id"])
        if previous is not None:
            return DUPLICATE if same_event(previous, item, server_time=server_time) else CONFLICT
        # deleted between the two calls (an erase): write it again
    return CONFLICT


def get(event_id: str) -> dict | None:
    try:
        return as_dict(EventModel.get(event_id, consistent_read=True))
    except EventModel.DoesNotExist:
        return None


def as_dict(model: EventModel) -> dict:
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


def of_subjects(subjects: Iterable[str]) -> list[dict]:
    """Events of several subjects merged in time order (each event once)."""
    seen: dict[str, dict] = {}
    for s in subjects:
        for e in of_subject(s):
            seen.setdefault(e["event_id"], e)
    return sorted(seen.values(), key=lambda e: e["ts"])


def delete(event_ids: Iterable[str]) -> int:
    n = 0
    with EventModel.batch_write() as batch:
        for event_id in event_ids:
            batch.delete(EventModel(event_id))
            n += 1
    return n
