"""A small recommender model on a twin: shoppers who bought two groups of products together."""

from __future__ import annotations

import datetime as dt
import json


def train_on_two_groups(twin, products: list[str], prefix: str, start: dt.datetime) -> dict:
    """Twelve shoppers bought ``products[:3]`` together three times and twelve ``products[3:]``:
    their purchase events, the products in the catalogue, then the real TrainFunction (forced).
    Returns its answer; raises when it published no model."""
    from polku.data import catalog
    from polku.data import events as event_table
    from polku.recommend.catalog import demo_product

    catalog.save_products([demo_product(p) for p in products])
    purchases = []
    for c in range(24):
        group = products[:3] if c % 2 == 0 else products[3:]
        for o in range(3):
            ts = (start + dt.timedelta(days=o * 3, hours=c)).strftime("%Y-%m-%dT%H:%M:%SZ")
            eid, cust = f"{prefix}-c{c}-o{o}", f"{prefix}-c{c}"
            purchases.append(dict(event_id=eid, subject=f"c#{cust}", ts=f"{ts}#{eid}", type="purchase", customer_id=cust,
                                  client_ts=ts, received_at=ts, properties={
                                      "order_id": eid, "revenue": 3.0 * len(group), "currency": "EUR",
                                      "items": [{"product_id": p, "quantity": 1, "price": 3.0} for p in group]}))
    event_table.store_all(purchases)
    out = twin.client("lambda").invoke(FunctionName=twin.names["TrainFunction"], Payload=json.dumps({"force": True}).encode())
    body = json.loads(out["Payload"].read())
    if out.get("FunctionError") or not body.get("published"):
        raise RuntimeError(f"no model was published: {body}")
    return body
