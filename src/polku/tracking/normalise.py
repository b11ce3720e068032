"""Turn one valid event into the item the events table stores. Pure.

* ids become strings (``product_id: 196`` and ``"196"`` are the same product);
* the client time becomes UTC ISO-8601 with milliseconds (``client_ts``), and the
  server's receive time is kept beside it (``received_at``);
* ``subject`` is whose history the event belongs to: ``c#<customer_id>`` when the
  customer is known (sent, or found by the anonymous id's identity link),
  otherwise ``a#<anonymous_id>``; ``ts`` (``<client_ts>#<event_id>``) orders a
  subject's events in time and is unique.
"""

from __future__ import annotations

import datetime as dt

from polku import clock
from polku.tracking import event_schema as schema

_ID_PROPS = {
    name: tuple(p.name for p in t.props if p.kind == "id") for name, t in schema.EVENT_TYPES.items()
}


def subject_of(customer_id: str | None, anonymous_id: str | None) -> str:
    return f"c#{customer_id}" if customer_id else f"a#{anonymous_id}"


def _items(items: list) -> list:
    out = []
    for it in items:
        row = {"product_id": str(it["product_id"]), "quantity": it["quantity"], "price": it["price"]}
        if it.get("category"):
            row["category"] = it["category"]
        out.append(row)
    return out


def normalise_properties(etype: str, props: dict | None) -> dict:
    props = dict(props or {})
    for name in _ID_PROPS[etype]:
        if name in props and props[name] is not None:
            props[name] = str(props[name])
    if "items" in props and etype in ("purchase", "checkout_started"):
        props["items"] = _items(props["items"])
    return {k: v for k, v in props.items() if v is not None}


def normalise(
    event: dict,
    client_ts: dt.datetime,
    received_at: str,
    *,
    site_key: str | None = None,
    linked_customer_id: str | None = None,
) -> dict:
    """The stored item (a plain dict). ``linked_customer_id`` comes from the identity link
    of the event's anonymous id when the event itself names no customer."""
    event_id = event["event_id"]
    customer_id = event.get("customer_id") or linked_customer_id
    anonymous_id = event.get("anonymous_id")
    ts = clock.to_iso(client_ts)
    item = {
        "event_id": event_id,
        "subject": subject_of(customer_id, anonymous_id),
        "ts": f"{ts}#{event_id}",
        "type": event["type"],
        "client_ts": ts,
        "received_at": received_at,
        "properties": normalise_properties(event["type"], event.get("properties")),
    }
    if customer_id:
        item["customer_id"] = customer_id
    if anonymous_id:
        item["anonymous_id"] = anonymous_id
    if site_key:
        item["site_key"] = site_key
    context = event.get("context")
    if context:
        item["context"] = dict(context)
    return item


# What a sender says about an event; the server's receive time, ``subject`` and ``ts`` follow from these.
_SENT_FIELDS = ("type", "client_ts", "anonymous_id", "site_key")


def _plain(value):
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _sent(properties: dict) -> dict:
    """What the sender said: the server's ``evidence`` (where a consent came from: the request's
    IP and origin, which a retry may change) is not part of the event's identity."""
    return {k: v for k, v in properties.items() if k != "evidence"}


def same_event(stored: dict, new: dict, *, server_time: bool = False) -> bool:
    """True when ``new`` is a resend of the stored item (same sender, subject, time and body).

    The customer may differ only by a link made between the two sends: an anonymous event
    stored before its browser was linked, and resent after (the anonymous ids are equal).
    ``server_time``: the sender gave no time (an identify without ``ts`` is stamped with the
    receive time), so the times of two sends are not compared.
    """
    fields = _SENT_FIELDS[:1] + _SENT_FIELDS[2:] if server_time else _SENT_FIELDS
    if any(stored.get(f) != new.get(f) for f in fields):
        return False
    if _sent(_plain(stored.get("properties") or {})) != _sent(_plain(new.get("properties") or {})):
        return False
    if _plain(stored.get("context") or {}) != _plain(new.get("context") or {}):
        return False
    old_c, new_c = stored.get("customer_id"), new.get("customer_id")
    return old_c == new_c or (bool(stored.get("anonymous_id")) and (old_c is None or new_c is None))
