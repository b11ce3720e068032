"""Turn tracking events into interactions (training) and into one customer's history (serving).

Read tolerantly: a product id may sit in ``properties.product_id``, or in
``properties.items``/``properties.products`` (a list of ids or of objects with ``product_id``).
Unknown event types are ignored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Iterable

from polku import clock
from polku.recommend.interactions import Interactions
from polku.recommend.strategies import CustomerHistory

PURCHASE = {"purchase", "order_completed", "purchased", "order"}
VIEW = {"product_view", "product_viewed", "view_item", "view"}
CART = {"add_to_cart", "added_to_cart", "cart"}
WEIGHTS = {**dict.fromkeys(VIEW, 1.0), **dict.fromkeys(CART, 2.0), **dict.fromkeys(PURCHASE, 4.0)}
PURCHASE_HALF_LIFE = 5.0  # orders: the 5th-latest order counts half
VIEW_HALF_LIFE_DAYS = 7.0


def product_ids(properties) -> list[str]:
    props = properties or {}
    if hasattr(props, "as_dict"):
        props = props.as_dict()
    out = []
    if props.get("product_id") not in (None, ""):
        out.append(str(props["product_id"]))
    for key in ("items", "products"):
        for entry in props.get(key) or []:
            if isinstance(entry, dict) and entry.get("product_id") not in (None, ""):
                out.append(str(entry["product_id"]))
            elif isinstance(entry, (str, int)):
                out.append(str(entry))
    return out


def _time(event: dict) -> dt.datetime | None:
    raw = event.get("client_ts") or (event.get("ts") or "").split("#")[0]
    try:
        return clock.parse_iso(raw)
    except (ValueError, TypeError, AttributeError):
        return None


def interactions_from_events(events: Iterable[dict]) -> Interactions:
    """Views, carts and purchases -> weighted interactions. A purchase's basket is its order;
    views and carts of one subject on one day form a basket."""
    users, items, times, baskets, weights = [], [], [], [], []
    for ev in events:
        kind = ev.get("type")
        if kind not in WEIGHTS:
            continue
        subject = ev.get("subject") or (f"c#{ev['customer_id']}" if ev.get("customer_id") else None)
        at = _time(ev)
        if not subject or at is None:
            continue
        props = ev.get("properties") or {}
        if hasattr(props, "as_dict"):
            props = props.as_dict()
        basket = f"o#{props.get('order_id') or ev.get('event_id')}" if kind in PURCHASE else f"d#{at.date()}"
        for pid in product_ids(props):
            users.append(subject)
            items.append(pid)
            times.append(at.timestamp())
            baskets.append(basket)
            weights.append(WEIGHTS[kind])
    return Interactions.from_records(users, items, times, baskets, weights)


def history_from_events(events: Iterable[dict], now: dt.datetime | None = None) -> CustomerHistory:
    """One customer's purchases (weighted by order recency) and what they viewed or put in the
    cart after their last purchase of it (weighted by days since)."""
    now = now or clock.now()
    orders: dict[str, dt.datetime] = {}
    bought_in: dict[str, list[str]] = defaultdict(list)
    last_bought: dict[str, dt.datetime] = {}
    looked: dict[str, tuple[dt.datetime, float]] = {}
    for ev in events:
        kind, at = ev.get("type"), _time(ev)
        if at is None:
            continue
        props = ev.get("properties") or {}
        if hasattr(props, "as_dict"):
            props = props.as_dict()
        pids = product_ids(props)
        if kind in PURCHASE:
            order = str(props.get("order_id") or ev.get("event_id") or at.isoformat())
            orders[order] = max(at, orders.get(order, at))
            for p in pids:
                bought_in[order].append(p)
                last_bought[p] = max(at, last_bought.get(p, at))
        elif kind in VIEW or kind in CART:
            strength = WEIGHTS[kind]
            for p in pids:
                prev = looked.get(p)
                if prev is None or at > prev[0] or (at == prev[0] and strength > prev[1]):
                    looked[p] = (at, max(strength, prev[1] if prev else 0.0))
    history = CustomerHistory()
    for rank, order in enumerate(sorted(orders, key=lambda o: orders[o], reverse=True)):
        for p in bought_in[order]:
            history.purchased[p] = history.purchased.get(p, 0.0) + 0.5 ** (rank / PURCHASE_HALF_LIFE)
    for p, (at, strength) in looked.items():
        if p in last_bought and last_bought[p] >= at:
            continue  # bought after (or when) looking
        age_days = max((now - at).total_seconds() / 86400.0, 0.0)
        history.viewed[p] = strength * 0.5 ** (age_days / VIEW_HALF_LIFE_DAYS)
    return history


PROFILE_PURCHASED = ("purchased", "purchases", "purchased_products", "bought")
PROFILE_VIEWED = ("recently_viewed", "viewed", "viewed_products", "recent_views")
PROFILE_WEIGHT = 0.25  # what the profile alone says (no recency known): weaker than fresh events


def _profile_ids(value) -> list[str]:
    if isinstance(value, dict):  # {product_id: count} or {"items": [...]}
        if "items" in value or "products" in value:
            return product_ids(value)
        return [str(k) for k in value]
    if isinstance(value, (list, tuple)):
        return product_ids({"items": list(value)})
    return []


def merge_profile(history: CustomerHistory, profile: dict | None) -> CustomerHistory:
    """Add products the profile knows about but the recent events do not (events expire; the
    profile keeps a summary). Field names are read tolerantly, top level or under ``traits``."""
    if not profile:
        return history
    sources = [profile, profile.get("traits") or {}]
    for src in sources:
        if not isinstance(src, dict):
            continue
        for key in PROFILE_PURCHASED:
            for p in _profile_ids(src.get(key)):
                history.purchased.setdefault(p, PROFILE_WEIGHT)
        for key in PROFILE_VIEWED:
            for p in _profile_ids(src.get(key)):
                if p not in history.purchased:
                    history.viewed.setdefault(p, PROFILE_WEIGHT)
    return history
