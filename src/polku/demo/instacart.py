"""Read the Instacart sample and turn shoppers' orders into tracking events.

The data has no absolute dates, product names or prices: timestamps are built
from each shopper's order sequence (days since prior order, day of week, hour)
counted back from a fixed anchor, so every run produces the same events.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import OrderedDict
from pathlib import Path

from polku import clock

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "instacart.csv"


def data_path() -> Path:
    for candidate in (DATA, Path.cwd().parent / "shared" / "data" / "instacart.csv"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"instacart.csv not found (looked at {DATA}); it lives in ../shared/data/")


def load_orders(path: Path, shoppers: int) -> "OrderedDict[str, list[dict]]":
    """The first ``shoppers`` users in file order -> their orders (each with its product ids)."""
    users: OrderedDict[str, OrderedDict[str, dict]] = OrderedDict()
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            uid = row["user_id"]
            if uid not in users:
                if len(users) >= shoppers:
                    continue
                users[uid] = OrderedDict()
            orders = users[uid]
            order = orders.setdefault(
                row["order_id"],
                {
                    "order_id": row["order_id"],
                    "number": int(row["order_number"]),
                    "dow": int(row["order_dow"]),
                    "hour": int(row["order_hour_of_day"]),
                    "days_since_prior": float(row["days_since_prior_order"] or 0),
                    "products": [],
                },
            )
            order["products"].append(row["product_id"])
    return OrderedDict((u, sorted(o.values(), key=lambda x: x["number"])) for u, o in users.items())


def order_times(orders: list[dict], anchor: dt.datetime) -> list[dt.datetime]:
    """Place orders in time: the last order lands in the week before ``anchor`` on its weekday/hour."""
    offsets, total = [], 0.0
    for o in orders:
        total += o["days_since_prior"] if o["number"] > 1 else 0
        offsets.append(total)
    last = orders[-1]
    # Monday-based anchor week; Instacart's dow 0 is taken as Sunday.
    last_day = anchor - dt.timedelta(days=7) + dt.timedelta(days=(last["dow"] - 1) % 7)
    last_time = last_day.replace(hour=last["hour"], minute=0, second=0, microsecond=0)
    return [last_time - dt.timedelta(days=total - off) for off in offsets]


def shopper_events(user_id: str, orders: list[dict], anchor: dt.datetime, last_n: int | None = None) -> list[dict]:
    """Events of one shopper: a session per order (views, add to cart, purchase). Deterministic ids."""
    times = order_times(orders, anchor)
    chosen = list(zip(orders, times))[-last_n:] if last_n else list(zip(orders, times))
    customer = f"ic-{user_id}"
    anon = f"anon-ic-{user_id}"
    events: list[dict] = []
    for order, at in chosen:
        oid = order["order_id"]
        t = at - dt.timedelta(minutes=2 * len(order["products"]) + 5)

        def ev(kind: str, n: int, props: dict) -> dict:
            return {
                "event_id": f"ic-{oid}-{kind}-{n}",
                "type": kind,
                "ts": clock.to_iso(t + dt.timedelta(seconds=30 * n)),
                "anonymous_id": anon,
                "customer_id": customer,
                "properties": props,
            }

        events.append(ev("page_view", 0, {"url": "https://shop.example/", "title": "Polku demo shop"}))
        for i, pid in enumerate(order["products"], start=1):
            events.append(ev("product_view", i, {"product_id": pid}))
            events.append(ev("add_to_cart", i, {"product_id": pid, "quantity": 1}))
        items = [{"product_id": pid, "quantity": 1, "price": 1.0} for pid in order["products"]]
        events.append(ev("purchase", 0, {"order_id": oid, "items": items, "revenue": float(len(items))}))
    return events
