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
from polku.tracking import instacart_sessions, session_replay

REPO = Path(__file__).resolve().parents[3]


def data_path() -> Path:
    """../shared/data/instacart.csv beside the repository (the Instacart sample)."""
    for candidate in (REPO.parent / "shared" / "data" / "instacart.csv", Path.cwd().parent / "shared" / "data" / "instacart.csv"):
        if candidate.is_file():
            return candidate
    raise SystemExit("instacart.csv not found: it lives in ../shared/data/ beside the repository")
ANCHOR = dt.datetime(2026, 3, 2, 0, 0, tzinfo=dt.timezone.utc)  # a Monday; the demo's "today"


def profile_summary(item: dict) -> dict:
    """The fields a marketer looks at first; lists shortened."""
    top = sorted((item.get("category_affinity") or {}).items(), key=lambda kv: -float(kv[1]))[:3]
    return {
        "customer_id": item.get("customer_id"),
        "first_seen": item.get("first_seen"),
        "last_seen": item.get("last_seen"),
        "counts": item.get("counts"),
        "orders": item.get("orders"),
        "revenue": item.get("revenue"),
        "top_categories": [k for k, _ in top],
        "recently_viewed": [v.get("product_id") for v in (item.get("recently_viewed") or [])[:5]],
        "products_bought": len(item.get("purchased") or {}),
        "preferred_channel": item.get("preferred_channel"),
        "consents": item.get("consents"),
        "lead_score": item.get("lead_score"),
        "time_zone": item.get("time_zone"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="polku.demo", description=__doc__)
    parser.add_argument("--shoppers", type=int, default=200, help="how many Instacart shoppers to replay")
    parser.add_argument("--weeks", type=int, default=3, help="replay the sessions of the last N weeks")
    parser.add_argument("--out", default=str(REPO / "out" / "demo"), help="where the demo writes its outputs")
    args = parser.parse_args(argv)

    from polku.twin.twin import Twin

    started = time.monotonic()
    vclock = clock.VirtualClock(ANCHOR)
    twin = Twin(REPO / "template.yaml", api_port=0, clock=vclock, stream_delivery="async").start()
    try:
        print(f"[demo] local twin up: API {twin.api_url}, AWS {twin.endpoint_url} (virtual clock {clock.now_iso()})")
        rows = instacart_sessions.read_rows(data_path())
        users = sorted({r["user_id"] for r in rows}, key=int)[: args.shoppers]
        window_start = ANCHOR - dt.timedelta(weeks=args.weeks)
        sessions = [s for s in instacart_sessions.sessions(rows, end=ANCHOR, users=users) if s.at >= window_start]
        n_events = sum(len(s.events) for s in sessions)
        print(f"[demo] replaying {len(sessions)} sessions of {len(users)} Instacart shoppers from the last "
              f"{args.weeks} weeks ({n_events} events) through POST /v1/events and /v1/identify")
        report = session_replay.replay(twin.api_url, sessions, site_key="demo-shop")
        print(f"[demo] API answered: {report.accepted} accepted, {report.duplicates} duplicates, "
              f"{len(report.rejected)} rejected, {report.identified} identified")
        twin.drain_streams()

        ddb = twin.client("dynamodb")
        counts: Counter = Counter()
        for page in ddb.get_paginator("scan").paginate(TableName=twin.names["EventsTable"], ProjectionExpression="#t",
                                                        ExpressionAttributeNames={"#t": "type"}):
            counts.update(item["type"]["S"] for item in page["Items"])
        print("[demo] events stored, per type:")
        for kind, n in sorted(counts.items()):
            print(f"         {kind:<16} {n:>7}")
        first = sessions[0].customer_id
        profile = ddb.get_item(TableName=twin.names["ProfilesTable"], Key={"customer_id": {"S": first}})
        from boto3.dynamodb.types import TypeDeserializer

        des = TypeDeserializer()
        item = {k: des.deserialize(v) for k, v in profile.get("Item", {}).items()}
        print(f"[demo] profile of customer {first} (their segment of one, abridged):")
        print(json.dumps(profile_summary(item), indent=2, default=str, sort_keys=True))
    finally:
        twin.stop()
    print(f"[demo] done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
