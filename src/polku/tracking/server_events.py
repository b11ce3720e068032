"""Record an event that happened on the server side (an e-mail opened or clicked, an
unsubscribe link followed, an order from the shop backend), through the same
validation, normalisation, identity resolution and once-only write as the API.

    record({"event_id": f"open-{message_id}", "type": "email_open", "customer_id": cid,
            "ts": clock.now_iso(), "properties": {"message_id": message_id}})

Use a deterministic ``event_id`` (derived from the message or webhook id) so a
retried delivery is stored once. Raises :class:`~polku.tracking.validation.Invalid`
for a bad event.
"""

from __future__ import annotations

from polku import clock
from polku.data import identities
from polku.tracking import event_store
from polku.tracking.normalise import normalise
from polku.tracking.validation import Invalid, validate

SERVER_SOURCE = "server"


def record(event: dict, source: str = SERVER_SOURCE) -> bool:
    """Store one event. True when stored now, False when the same event was stored before;
    :class:`Invalid` (field ``event_id``) when the id belongs to a different event."""
    received = clock.now()
    ts = validate(event, received)
    linked = None
    if not event.get("customer_id") and event.get("anonymous_id"):
        linked = identities.customer_of(event["anonymous_id"])
    item = normalise(event, ts, clock.to_iso(received), site_key=source, linked_customer_id=linked)
    outcome = event_store.put_once(item)
    if outcome == event_store.CONFLICT:
        raise Invalid("event_id", "is already used by a different event")
    return outcome == event_store.STORED
