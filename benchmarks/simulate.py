"""Benchmark: simulate a 30-day journey for N customers (default 1,000) through the real ASL and handlers.

Target (issue #6): <= 60 s wall on a 2-core machine. The baseline in the same run is the
simulation of 10 customers, so the report also gives the per-customer cost and how it scales.
Writes its section of docs/benchmarks.md.

    python benchmarks/simulate.py [--customers 1000] [--journey abandoned_cart] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray daemon locally (as `polku journeys simulate`)
START = dt.datetime(2026, 1, 5, 0, 0, tzinfo=dt.timezone.utc)


def timeline(n: int, seed: int = 7) -> list[str]:
    """Shoppers over 30 days: identify, add to cart; a third buy within 2 days (goal), the rest never."""
    rnd = random.Random(seed)
    lines = []
    for i in range(n):
        cid = f"bench-{i:05d}"
        t0 = START + dt.timedelta(minutes=rnd.randrange(0, 26 * 24 * 60))
        iso = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
        lines.append(json.dumps({"type": "identify", "customer_id": cid, "ts": iso(t0),
                                 "properties": {"email": f"{cid}@example.com", "consents": {"email": True},
                                                "time_zone": rnd.choice(["Europe/Helsinki", "Europe/Prague", "UTC"])}}))
        item = {"product_id": f"p{rnd.randrange(50)}", "quantity": 1, "price": 9.9}
        lines.append(json.dumps({"type": "add_to_cart", "customer_id": cid, "ts": iso(t0 + dt.timedelta(minutes=5)),
                                 "properties": item}))
        if i % 3 == 0:
            lines.append(json.dumps({"type": "purchase", "customer_id": cid,
                                     "ts": iso(t0 + dt.timedelta(hours=rnd.randrange(2, 48))),
                                     "properties": {"order_id": f"o{i}", "revenue": 9.9, "items": [item]}}))
    return lines


def run(journey: str, n: int, twin, prefix: str, workers: int = 1) -> tuple[float, list[dict], list[dict]]:
    from polku.journeys.simulate import Simulation, parse_timeline

    events = parse_timeline(line.replace('"bench-', f'"{prefix}-') for line in timeline(n))
    t = time.perf_counter()
    sim = Simulation(journey, twin=twin, workers=workers)
    out = sim.run(events, START)
    return time.perf_counter() - t, out, sim.worker_stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--journey", default="abandoned_cart")
    ap.add_argument("--workers", type=int, default=2,
                    help="processes for the full run (customers split between them; default 2, one per core)")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    os.environ["LOG_LEVEL"] = "ERROR"
    from polku.twin.twin import Twin

    t0 = time.perf_counter()
    twin = Twin(REPO / "template.yaml").start()
    startup = time.perf_counter() - t0
    try:
        base_s, _, _ = run(args.journey, 10, twin, prefix="base")
        big_s, out, shards = run(args.journey, args.customers, twin, prefix="bench", workers=args.workers)
    finally:
        twin.stop()
    kinds = {}
    for h in out:
        kinds[h["kind"]] = kinds.get(h["kind"], 0) + 1
    exits = {}
    for h in out:
        if h["kind"] == "exited":
            exits[h["reason"]] = exits.get(h["reason"], 0) + 1
    per_base = base_s / 10
    per_big = big_s / args.customers
    result = {
        "journey": args.journey, "customers": args.customers, "days": 30, "twin_start_s": round(startup, 2),
        "baseline_10_s": round(base_s, 2), "run_s": round(big_s, 2), "target_s": 60,
        "per_customer_ms_baseline": round(per_base * 1000, 1), "per_customer_ms": round(per_big * 1000, 1),
        "scaling_ratio": round(per_big / per_base, 2), "happenings": len(out), "kinds": kinds, "exits": exits,
        "workers": args.workers, "shards": shards, "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    if not args.no_write:
        write_report(result)
    return 0 if big_s <= 60 or args.customers != 1000 else 1


def write_report(r: dict) -> None:
    path = REPO / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    section = (
        "## Journey simulation (`benchmarks/simulate.py`)\n\n"
        f"A 30-day `{r['journey']}` timeline for {r['customers']:,} customers (identify + add to cart spread over "
        "26 days; a third buy within two days) through the real ASL in the twin's interpreter, the real trigger, "
        "step, offer and Send handlers, on the virtual clock. Target: <= 60 s wall on 2 cores.\n\n"
        "| measure | value |\n|---|---|\n"
        f"| wall time, {r['customers']:,} customers | **{r['run_s']} s** (target {r['target_s']} s) |\n"
        f"| baseline, 10 customers (same run) | {r['baseline_10_s']} s |\n"
        f"| per customer: baseline / full run | {r['per_customer_ms_baseline']} ms / {r['per_customer_ms']} ms "
        f"(ratio {r['scaling_ratio']}) |\n"
        f"| twin start-up (not counted) | {r['twin_start_s']} s |\n"
        f"| happenings written | {r['happenings']:,} ({', '.join(f'{k} {v:,}' for k, v in sorted(r['kinds'].items()))}) |\n"
        f"| exits | {', '.join(f'{k} {v:,}' for k, v in sorted(r['exits'].items()))} |\n"
        f"| CPUs seen | {r['cpus']} |\n\n"
        "Where the time goes (py-spy, 60 customers): the real handlers (Send: channel choice, template "
        "render, SES, recommend call; tracking's profile rebuild on every event; trigger), moto's "
        "request dispatch and response serialisation, and moto's DynamoDB, whose index queries scan "
        "the whole table. Already done: in-process transport over the twin's backends (2.2x), one "
        "boto3 client per service for Step Functions tasks, each definition parsed once, PynamoDB "
        "client reuse, cheaper moto sorting and partition-only base-table queries (together about "
        "3x more); before them 100 customers took 86 s (860 ms each). Not met: the 60 s target needs "
        "about 4-5x more - next candidates are an index for moto's GSI queries and running Send "
        "without the in-process Lambda round trip.\n\n"
    )
    pattern = re.compile(r"## Journey simulation \(`benchmarks/simulate.py`\)\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(section.rstrip("\n") + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
