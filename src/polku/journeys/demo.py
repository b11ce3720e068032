"""Journeys over replayed Instacart shoppers: ``python -m polku.journeys.demo [--shoppers N] [--weeks W]``.

The shoppers' real order histories (data/instacart.csv.gz, laid out in time by
:mod:`polku.tracking.instacart_sessions`, synthetic prices and categories) become a
timeline; the last ``--weeks`` of it run through the event-triggered journeys of the
library at once (plus win-back's daily tick) on the virtual clock, with the real ASL and
handlers. Prints per-journey counts: entered, each state, messages, actions, exits.
Instacart shoppers always buy what they put in the cart, so abandoned-cart and browse
journeys mostly end as goals; cross-sell answers every purchase.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from polku import clock

REPO = Path(__file__).resolve().parents[3]
JOURNEYS = ["abandoned_cart", "browse_abandonment", "cross_sell", "win_back"]


def timeline(shoppers: int, weeks: int, end: dt.datetime) -> list[str]:
    from polku.demo.instacart_data import instacart_rows
    from polku.tracking.instacart_sessions import sessions

    rows = instacart_rows()
    users = sorted({r["user_id"] for r in rows}, key=lambda u: (len(u), u))[:shoppers]
    start = end - dt.timedelta(weeks=weeks)
    lines = []
    for s in sessions(rows, end, users):
        early = s.at < start  # before the window: only who the shopper is (their identify)
        for i, ev in enumerate(s.events):
            if s.identify and i == s.identify_before:
                ident = dict(s.identify)
                lines.append(json.dumps({"type": "identify", "event_id": ident["event_id"],
                                         "anonymous_id": ident["anonymous_id"], "customer_id": ident["customer_id"],
                                         "ts": clock.to_iso(max(clock.parse_iso(ident["ts"]), start)) if early else ident["ts"],
                                         "properties": ident["traits"]}))
            if not early:
                lines.append(json.dumps(ev))
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m polku.journeys.demo")
    ap.add_argument("--shoppers", type=int, default=40)
    ap.add_argument("--weeks", type=int, default=3)
    ap.add_argument("--end", default="2026-02-01T00:00:00Z")
    args = ap.parse_args(argv)
    import logging
    import os

    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logging.disable(logging.WARNING)
    from polku.journeys.simulate import Simulation, format_summary, parse_timeline, summarize

    lines = timeline(args.shoppers, args.weeks, clock.parse_iso(args.end))
    events = parse_timeline(lines)
    out, sys.stdout = sys.stdout, sys.stderr  # handler output is not the report
    try:
        happenings = Simulation(JOURNEYS).run(events)
    finally:
        sys.stdout = out
    print(f"{args.shoppers} Instacart shoppers, {len(events)} events over {args.weeks} weeks, journeys: "
          f"{', '.join(JOURNEYS)}")
    print(format_summary(summarize(happenings)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
