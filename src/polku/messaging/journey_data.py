"""What a journey's message knows about the customer's journey: the cart, the viewed product,
the event or store of the trigger. Pure: the Send step hands in the customer's events and a
catalogue look-up (:func:`enrich`), so the same code serves the Send function and tests.

A Send task asks for data with ``"include": [...]`` (names in :data:`INCLUDES`):

* ``cart``: the customer's cart *at send time*, folded from their events (``add_to_cart``
  adds, ``remove_from_cart`` takes away, a ``purchase`` takes out what it bought, or
  everything when it lists no items), each line with the catalogue's name, price, image and
  page. ``data.cart_items`` (``[{product_id, name, price, quantity, line_total, image_url,
  url, category}]``), ``data.cart_count`` (items), ``data.cart_total``. No events at all:
  the trigger's own product is the cart.
* ``viewed_product``: the product of the trigger event with its catalogue content:
  ``data.viewed_product`` and ``data.viewed_items`` (a list of that one, for product_list).

Always, without asking: the trigger's ``event_name``, ``event_date``, ``event_url``,
``store_name``, ``store_id`` properties become ``data.<name>`` (unless the journey's
context already sets them).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

INCLUDES = ("cart", "viewed_product")
TRIGGER_FIELDS = ("event_name", "event_date", "event_url", "store_name", "store_id")
MAX_CART_LINES = 50

Catalog = Callable[[list[str]], Mapping[str, Mapping]]


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if out == out and out not in (float("inf"), float("-inf")) else None


def _qty(value: Any, default: int = 1) -> int:
    try:
        q = int(value)
    except (TypeError, ValueError):
        return default
    return q


def cart_from_events(events: Iterable[Mapping]) -> list[dict]:
    """The cart lines ``[{product_id, quantity, price?, category?}]`` after ``events`` (in
    time order; ties keep the given order), in the order products were first added."""
    ordered = sorted(enumerate(events), key=lambda ie: (str(ie[1].get("client_ts") or ie[1].get("ts") or ""), ie[0]))
    lines: dict[str, dict] = {}
    for _, e in ordered:
        kind = e.get("type")
        props = e.get("properties") or {}
        if hasattr(props, "as_dict"):
            props = props.as_dict()
        if kind == "add_to_cart" and props.get("product_id") not in (None, ""):
            pid = str(props["product_id"])
            line = lines.setdefault(pid, {"product_id": pid, "quantity": 0})
            line["quantity"] += max(1, _qty(props.get("quantity"), 1))
            for key in ("price", "category"):
                if props.get(key) not in (None, ""):
                    line[key] = props[key]
        elif kind == "remove_from_cart" and props.get("product_id") not in (None, ""):
            pid = str(props["product_id"])
            if pid in lines:
                q = props.get("quantity")
                lines[pid]["quantity"] -= _qty(q, lines[pid]["quantity"]) if q is not None else lines[pid]["quantity"]
                if lines[pid]["quantity"] <= 0:
                    del lines[pid]
        elif kind == "purchase":
            items = props.get("items")
            if not isinstance(items, list) or not items:
                lines.clear()
                continue
            for item in items:
                if isinstance(item, Mapping) and item.get("product_id") not in (None, ""):
                    lines.pop(str(item["product_id"]), None)
    return list(lines.values())[:MAX_CART_LINES]


def _product(pid: str, own: Mapping, content: Mapping | None) -> dict:
    """A product for a template: the catalogue's content over what the event said."""
    content = content or {}
    price = _num(content.get("price"))
    if price is None:
        price = _num(own.get("price"))
    out = {
        "product_id": pid,
        "name": content.get("name") or own.get("name") or pid,
        "price": price,
        "image_url": content.get("image_url") or "",
        "url": content.get("url") or "",
        "category": content.get("category") or own.get("category") or "",
    }
    if content.get("currency"):
        out["currency"] = content["currency"]
    return out


def cart_data(lines: list[dict], catalog: Catalog | None) -> dict:
    """``cart_items``, ``cart_count`` and ``cart_total`` for the template from cart lines."""
    content = _lookup(catalog, [line["product_id"] for line in lines])
    items = []
    total = 0.0
    for line in lines:
        item = _product(line["product_id"], line, content.get(line["product_id"]))
        item["quantity"] = line["quantity"]
        if item["price"] is not None:
            item["line_total"] = round(item["price"] * line["quantity"], 2)
            total += item["line_total"]
        items.append(item)
    return {"cart_items": items, "cart_count": sum(i["quantity"] for i in items), "cart_total": round(total, 2)}


def _lookup(catalog: Catalog | None, ids: list[str]) -> Mapping[str, Mapping]:
    if catalog is None or not ids:
        return {}
    try:
        return catalog(ids) or {}
    except Exception:  # noqa: BLE001 - a catalogue outage must not stop the message: names fall back to ids
        from polku.observability import logger

        logger.warning("catalogue look-up failed; products show their ids", exc_info=True)
        return {}


def trigger_properties(context: Mapping) -> dict:
    trigger = context.get("trigger") if isinstance(context, Mapping) else None
    props = trigger.get("properties") if isinstance(trigger, Mapping) else None
    return dict(props) if isinstance(props, Mapping) else {}


def enrich(
    context: Mapping,
    include: Iterable[str] = (),
    *,
    events: Callable[[], list[Mapping]] | None = None,
    catalog: Catalog | None = None,
) -> dict:
    """The template's ``data``: the journey's ``context`` plus what ``include`` asks for.
    ``events()`` gives the customer's events (called only for ``cart``)."""
    data = dict(context or {})
    props = trigger_properties(data)
    for name in TRIGGER_FIELDS:
        if name not in data and props.get(name) not in (None, ""):
            data[name] = props[name]
    include = set(include or ())
    if "cart" in include:
        history = events() if events is not None else []
        lines = cart_from_events(history) if history else []
        if not lines and props.get("product_id") not in (None, ""):  # no history: the trigger's product
            lines = [{"product_id": str(props["product_id"]), "quantity": max(1, _qty(props.get("quantity"), 1)),
                      **{k: props[k] for k in ("price", "category") if props.get(k) not in (None, "")}}]
        data.update(cart_data(lines, catalog))
    if "viewed_product" in include and props.get("product_id") not in (None, ""):
        pid = str(props["product_id"])
        product = _product(pid, props, _lookup(catalog, [pid]).get(pid))
        data["viewed_product"] = product
        data["viewed_items"] = [product]
    return data
