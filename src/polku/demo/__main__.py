"""`python -m polku.demo`: start the twin, replay Instacart shoppers, show what landed."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from polku import clock
from polku.demo import instacart

REPO = Path(__file__).resolve().parents[3]
ANCHOR = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.timezone.utc)  # a Monday; the demo's "today"


def post_batches(api_url: str, events: list[dict], site_key: str = "demo-shop", size: int = 100) -> Counter:
    answers: Counter = Counter()
    for i in range(0, len(events), size):
        body = json.dumps({"site_key": site_key, "events": events[i : i + size]}).encode()
        req = urllib.request.Request(f"{api_url}/v1/events", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            result = json.load(resp)
        answers["accepted"] += len(result["accepted"])
        answers["rejected"] += len(result["rejected"])
    return answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polku.demo", description=__doc__)
    parser.add_argument("--shoppers", type=int, default=200, help="how many Instacart shoppers to replay")
    parser.add_argument("--orders", type=int, default=2, help="each shopper's last N orders become sessions")
    parser.add_argument("--out", default=str(REPO / "out" / "demo"), help="where the demo writes its outputs")
    args = parser.parse_args(argv)

    from polku.twin.twin import Twin

    started = time.monotonic()
    vclock = clock.VirtualClock(ANCHOR)
    twin = Twin(REPO / "template.yaml", api_port=0, clock=vclock, stream_delivery="async").start()
    try:
        print(f"[demo] local twin up: API {twin.api_url}, AWS {twin.endpoint_url} (virtual clock {clock.now_iso()})")
        orders = instacart.load_orders(instacart.data_path(), args.shoppers)
        events = []
        for uid, user_orders in orders.items():
            events.extend(instacart.shopper_events(uid, user_orders, ANCHOR, last_n=args.orders))
        events.sort(key=lambda e: (e["ts"], e["event_id"]))
        print(f"[demo] replaying {len(orders)} Instacart shoppers ({len(events)} events) through POST /v1/events")
        answers = post_batches(twin.api_url, events)
        print(f"[demo] API answered: {answers['accepted']} accepted, {answers['rejected']} rejected")
        twin.drain_streams()

        ddb = twin.client("dynamodb")
        counts: Counter = Counter()
        for page in ddb.get_paginator("scan").paginate(TableName=twin.names["EventsTable"], ProjectionExpression="#t",
                                                        ExpressionAttributeNames={"#t": "type"}):
            counts.update(item["type"]["S"] for item in page["Items"])
        print("[demo] events stored, per type:")
        for kind, n in sorted(counts.items()):
            print(f"         {kind:<16} {n:>7}")
        first = next(iter(orders))
        profile = ddb.get_item(TableName=twin.names["ProfilesTable"], Key={"customer_id": {"S": f"ic-{first}"}})
        from boto3.dynamodb.types import TypeDeserializer

        des = TypeDeserializer()
        item = {k: des.deserialize(v) for k, v in profile.get("Item", {}).items()}
        item.get("traits", {}).pop("applied", None)
        print(f"[demo] profile of customer ic-{first}:")
        print(json.dumps(item, indent=2, default=str, sort_keys=True))
    finally:
        twin.stop()
    print(f"[demo] done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
