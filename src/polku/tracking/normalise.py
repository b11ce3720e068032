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
