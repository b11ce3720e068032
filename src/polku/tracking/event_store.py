"""Storing an event once: a retry of the same event is a duplicate, another event under a taken
id a conflict. The events table's reads and writes are in :mod:`polku.data.events`."""

from __future__ import annotations

from typing import Iterable

from pynamodb.exceptions import PutError

from polku.data import events as event_table
from polku.tracking.normalise import same_event


class StorageUnavailable(RuntimeError):
    """The table refused a write for a reason other than "already there" (throttling, outage)."""


def put_new(item: dict) -> bool:
    """Write one normalised event unless its id is already stored. True when written.

    The condition is part of the write (``attribute_not_exists(event_id)``), so two
    concurrent posts of the same event cannot both store it.
    """
    try:
        return event_table.add(item)
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
        previous = event_table.get(item["event_id"])
        if previous is not None:
            return DUPLICATE if same_event(previous, item, server_time=server_time) else CONFLICT
        # deleted between the two calls (an erase): write it again
    return CONFLICT


def of_subjects(subjects: Iterable[str]) -> list[dict]:
    """Events of several subjects merged in time order (each event once)."""
    seen: dict[str, dict] = {}
    for s in subjects:
        for e in event_table.of_subject(s):
            seen.setdefault(e["event_id"], e)
    return sorted(seen.values(), key=lambda e: e["ts"])
