"""Turn Instacart order histories into realistic web sessions of tracking events. Pure, deterministic.

The public Instacart sample (data/instacart.csv.gz, found by polku.demo.instacart_data) has no dates, names or prices:
only each user's order sequence, the day of week (0-6, 0 read as Sunday) and hour
of each order, the days since the previous order, and the products in
add-to-cart order. Here:

* **Time line**: a user's orders are laid out from the cumulative
  ``days_since_prior_order``, snapped to the recorded day of week (never going
  back in time), at the recorded hour plus a minute derived from the order id; the
  whole history is shifted so that the user's last order falls in the 7 days
  before ``end``.
* **Session**: for each order, a page view of the shop, then for each product a
  product view and an add-to-cart 40 s apart, a checkout, and the purchase at the
  order time. Prices and categories are synthetic but stable per product
  (:func:`synthetic_price`, :func:`synthetic_category`); the demo catalogue uses
  the same functions.
* **Identity**: each user browses from one device (``anonymous_id``). The first
  session is anonymous until checkout, where it carries an identify request (send
  it to ``POST /v1/identify`` before the session's remaining events); later
  sessions name the customer.

Event ids are ``ic-<order_id>-<n>``: replaying the same rows gives the same events
(so a replay is stored once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Iterable

from polku import clock

CATEGORIES = (
    "produce", "dairy-eggs", "snacks", "beverages", "frozen", "pantry", "bakery", "deli",
    "household", "personal-care", "meat-seafood", "breakfast", "canned-goods", "pasta-rice",
    "international", "babies", "pets", "drinks-alcohol", "bulk",
)
SHOP_URL = "https://shop.example.com"


def _h(*parts) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def synthetic_price(product_id) -> float:
    """A stable made-up price between 0.99 and 15.98."""
    return round(0.99 + (_h("price", product_id) % 1500) / 100, 2)


def synthetic_category(product_id) -> str:
    return CATEGORIES[_h("category", product_id) % len(CATEGORIES)]


@dataclass
class Order:
    order_id: str
    user_id: str
    order_number: int
    dow: int
    hour: int
    days_since_prior: float | None
    products: list[str] = field(default_factory=list)  # in add-to-cart order


@dataclass
class Session:
    user_id: str
    customer_id: str
    anonymous_id: str
    order_id: str
    at: dt.datetime  # the purchase time
    events: list[dict]
    identify: dict | None = None  # POST /v1/identify body, sent before events[identify_before]
    identify_before: int = 0


def orders_by_user(rows: Iterable[dict]) -> dict[str, list[Order]]:
    orders: dict[str, Order] = {}
    lines: dict[str, list[tuple[float, str]]] = {}
    for r in rows:
        oid = r["order_id"]
        if oid not in orders:
            dsp = r.get("days_since_prior_order") or ""
            orders[oid] = Order(
                order_id=oid,
                user_id=r["user_id"],
                order_number=int(r["order_number"]),
                dow=int(r["order_dow"]),
                hour=int(r["order_hour_of_day"]),
                days_since_prior=float(dsp) if dsp.strip() else None,
            )
        lines.setdefault(oid, []).append((float(r.get("add_to_cart_order") or 0), r["product_id"]))
    users: dict[str, list[Order]] = {}
    for oid, order in orders.items():
        order.products = [p for _, p in sorted(lines[oid])]
        users.setdefault(order.user_id, []).append(order)
    for lst in users.values():
        lst.sort(key=lambda o: o.order_number)
    return users


def _python_weekday(instacart_dow: int) -> int:
    return (instacart_dow - 1) % 7  # Instacart 0 = Sunday; Python 0 = Monday


def order_times(orders: list[Order], end: dt.datetime) -> list[dt.datetime]:
    """Absolute purchase times for one user's orders (see the module doc)."""
    days: list[int] = []
    cursor = 0.0
    for i, o in enumerate(orders):
        cursor += (o.days_since_prior or 0.0) if i else 0.0
        target = round(cursor)
        days.append(target)
    # Anchor: day 0 is a date whose weekday matches the first order.
    end = end.astimezone(dt.timezone.utc)
    base = (end - dt.timedelta(days=days[-1] + 7)).date()
    while base.weekday() != _python_weekday(orders[0].dow):
        base += dt.timedelta(days=1)
    times, previous = [], None
    for o, day in zip(orders, days):
        date = base + dt.timedelta(days=day)
        want = _python_weekday(o.dow)
        shift = (want - date.weekday()) % 7
        if shift > 3:
            shift -= 7
        date += dt.timedelta(days=shift)
        t = dt.datetime(date.year, date.month, date.day, o.hour, _h("minute", o.order_id) % 60, tzinfo=dt.timezone.utc)
        if previous is not None and t <= previous:
            t = previous + dt.timedelta(hours=1)
        times.append(t)
        previous = t
    return times


def _ev(order: Order, n: int, etype: str, at: dt.datetime, anon: str, customer: str | None, props: dict) -> dict:
    ev = {
        "event_id": f"ic-{order.order_id}-{n}",
        "type": etype,
        "anonymous_id": anon,
        "ts": clock.to_iso(at),
        "properties": props,
        "context": {"locale": "en-US", "time_zone": "America/New_York", "library": "instacart-replay"},
    }
    if customer:
        ev["customer_id"] = customer
    return ev


def session_for(order: Order, at: dt.datetime, *, first: bool) -> Session:
    customer = f"ic-{order.user_id}"
    anon = f"ic-device-{order.user_id}"
    named = None if first else customer
    items = [
        {"product_id": p, "quantity": 1, "price": synthetic_price(p), "category": synthetic_category(p)}
        for p in order.products
    ]
    start = at - dt.timedelta(seconds=120 + 40 * len(items))
    events = [_ev(order, 0, "page_view", start, anon, named, {"url": f"{SHOP_URL}/", "title": "Shop"})]
    t = start
    for i, it in enumerate(items):
        t = start + dt.timedelta(seconds=30 + 40 * i)
        events.append(_ev(order, 2 * i + 1, "product_view", t, anon, named,
                          {"product_id": it["product_id"], "price": it["price"], "category": it["category"]}))
        events.append(_ev(order, 2 * i + 2, "add_to_cart", t + dt.timedelta(seconds=15), anon, named,
                          {"product_id": it["product_id"], "quantity": 1, "price": it["price"],
                           "category": it["category"]}))
    n = 2 * len(items) + 1
    identify = None
    identify_before = len(events)
    if first:
        identify = {
            "event_id": f"ic-{order.order_id}-identify",
            "anonymous_id": anon,
            "customer_id": customer,
            "ts": clock.to_iso(at - dt.timedelta(seconds=90)),
            "traits": {"email": f"shopper{order.user_id}@example.com", "preferred_channel": "email",
                       "consents": {"email": True}},
        }
    revenue = round(sum(it["price"] * it["quantity"] for it in items), 2)
    events.append(_ev(order, n, "checkout_started", at - dt.timedelta(seconds=60), anon, customer,
                      {"items": items, "value": revenue}))
    events.append(_ev(order, n + 1, "purchase", at, anon, customer,
                      {"order_id": order.order_id, "items": items, "revenue": revenue, "currency": "USD"}))
    return Session(order.user_id, customer, anon, order.order_id, at, events, identify, identify_before)


def sessions(rows: Iterable[dict], end: dt.datetime, users: Iterable[str] | None = None) -> list[Session]:
    """Every order of (the chosen) users as a session, in time order."""
    by_user = orders_by_user(rows)
    chosen = set(map(str, users)) if users is not None else None
    out = []
    for user_id in sorted(by_user, key=lambda u: (len(u), u)):
        if chosen is not None and user_id not in chosen:
            continue
        orders = by_user[user_id]
        for i, (order, at) in enumerate(zip(orders, order_times(orders, end))):
            out.append(session_for(order, at, first=i == 0))
    out.sort(key=lambda s: (s.at, s.user_id))
    return out
