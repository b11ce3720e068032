"""Writes message reactions (opens, clicks, unsubscribes) into the events table as
tracking events, so the profile builder learns the customer's reading hours and channel.

Event ids are deterministic (kind, message, minute[, link]): a pixel loaded twice in
the same minute, SES reporting the same open, or a redelivered SNS notification
store one event.
"""

from __future__ import annotations

import hashlib


from polku import clock
from polku.data.base import put_once
from polku.data.events import EventModel

TYPES = {"open": "email_open", "click": "email_click", "unsubscribe": "unsubscribe"}


def reaction_event_id(kind: str, message_id: str, at: str, url: str | None = None) -> str:
    minute = at[:16].replace(":", "").replace("-", "")  # 20260105T0812
    parts = [kind, message_id, minute]
    if url:
        parts.append(hashlib.sha256(url.encode("utf-8")).hexdigest()[:12])
    return ":".join(parts)


def record_reaction(
    kind: str,
    *,
    message_id: str,
    customer_id: str,
    channel: str = "email",
    url: str | None = None,
    journey: str | None = None,
    at: str | None = None,
) -> bool:
    """Store one reaction event. True if new, False if it was stored before."""
    at = at or clock.now_iso()
    event_id = reaction_event_id(kind, message_id, at, url)
    properties = {"message_id": message_id, "channel": channel, "source": "polku.messages"}
    if url:
        properties["url"] = url
    if journey:
        properties["journey"] = journey
    item = EventModel(
        event_id,
        subject=f"c#{customer_id}",
        ts=f"{at}#{event_id}",
        type=TYPES[kind],
        customer_id=customer_id,
        client_ts=at,
        received_at=clock.now_iso(),
        properties=properties,
    )
    return put_once(item, EventModel.event_id.does_not_exist())
