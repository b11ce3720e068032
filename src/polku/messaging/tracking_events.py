"""Writes message reactions (opens, clicks, unsubscribes) into the events table as
tracking events, so the profile builder learns the customer's reading hours and channel.

Event ids are deterministic (kind, message, minute[, link]): a pixel loaded twice in
the same minute, SES reporting the same open, or a redelivered SNS notification
store one event.
"""

from __future__ import annotations

import hashlib

from polku import clock
from polku.data import events as event_table

TYPES = {"open": "email_open", "click": "email_click", "unsubscribe": "unsubscribe"}
# On-site content (the web channel and the slots of docs/onsite.md): shown and clicked.
WEB_TYPES = {"impression": "content_impression", "click": "content_click"}
ANONYMOUS = "anon:"  # a visitor without a verified customer id: anon:<anonymous id> (its profile's key)


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
    slot: str | None = None,
) -> bool:
    """Store one reaction event. True if new, False if it was stored before. A reaction to on-site
    content (``channel`` web, or a ``slot``) is a ``content_impression``/``content_click``; the
    customer ``anon:<id>`` is an anonymous visitor (stored under that browser)."""
    at = at or clock.now_iso()
    event_id = reaction_event_id(kind, message_id, at, url)
    if slot is None and message_id.startswith("slot:"):  # a product link of an on-site slot
        slot = message_id[len("slot:"):]
    web = channel == "web" or slot is not None
    properties = {"message_id": message_id, "channel": channel, "source": "polku.messages"}
    if web:
        properties["slot"] = slot or "inbox"
    if url:
        properties["url"] = url
    if journey:
        properties["journey"] = journey
    anonymous = customer_id.startswith(ANONYMOUS)
    who = {"anonymous_id": customer_id[len(ANONYMOUS):]} if anonymous else {"customer_id": customer_id}
    if anonymous and not who["anonymous_id"]:
        return False  # a visitor without any id (no consent yet): nobody to note it for
    item = dict(
        event_id=event_id,
        subject=f"a#{who['anonymous_id']}" if anonymous else f"c#{customer_id}",
        ts=f"{at}#{event_id}",
        type=WEB_TYPES[kind] if web else TYPES[kind],
        **who,
        client_ts=at,
        received_at=clock.now_iso(),
        properties=properties,
    )
    return event_table.add(item)
