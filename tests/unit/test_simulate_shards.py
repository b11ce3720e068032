"""Splitting a timeline by customer for worker processes (polku.journeys.simulate.shard_timeline)."""

from __future__ import annotations

import json

from polku.journeys.simulate import parse_timeline, shard_timeline


def _line(type_, ts, **kw):
    return json.dumps({"type": type_, "ts": ts, **kw})


LINES = [
    _line("add_to_cart", "2026-01-05T10:00:00Z", anonymous_id="a-ann"),  # ann, before she is identified
    _line("identify", "2026-01-05T11:00:00Z", customer_id="ann", anonymous_id="a-ann"),
    _line("identify", "2026-01-05T09:00:00Z", customer_id="bob"),
    _line("add_to_cart", "2026-01-05T09:30:00Z", customer_id="bob"),
    _line("add_to_cart", "2026-01-05T12:00:00Z", customer_id="carl"),
    _line("page_view", "2026-01-05T08:00:00Z", anonymous_id="a-dora"),
    _line("purchase", "2026-01-06T08:00:00Z", customer_id="bob"),
    _line("page_view", "2026-01-06T09:00:00Z", anonymous_id="a-ann", customer_id="ann"),
]


def _who(part):
    return {e.body.get("customer_id") or e.body.get("anonymous_id") for e in part}


def test_customers_and_their_anonymous_ids_stay_together_and_lines_keep_order_and_numbers():
    events = parse_timeline(LINES)
    parts = shard_timeline(events, 2)
    assert len(parts) == 2
    assert sorted(e.line for p in parts for e in p) == list(range(1, len(LINES) + 1))
    for p in parts:
        assert p == sorted(p, key=lambda e: (e.at, e.line))
    ann = next(p for p in parts if "ann" in _who(p))
    assert {e.line for e in ann if e.body.get("anonymous_id") == "a-ann"} == {1, 2, 8}
    assert all(len([p for p in parts if c in _who(p)]) == 1 for c in ("ann", "bob", "carl", "a-dora"))
    # Event ids come from line numbers and text, so they are those of the whole timeline.
    ids = {e.line: e.body["event_id"] for e in events}
    assert all(e.body["event_id"] == ids[e.line] for p in parts for e in p)


def test_the_split_is_deterministic_balanced_and_never_makes_empty_parts():
    events = parse_timeline(LINES)
    assert [[e.line for e in p] for p in shard_timeline(events, 2)] == \
        [[e.line for e in p] for p in shard_timeline(parse_timeline(LINES), 2)]
    sizes = sorted(len(p) for p in shard_timeline(events, 2))
    assert sizes == [4, 4]
    assert len(shard_timeline(events, 10)) == 4  # four people, four parts at most
    assert shard_timeline(events, 1) == [events]
    one = parse_timeline([_line("page_view", "2026-01-05T08:00:00Z", customer_id="solo")])
    assert shard_timeline(one, 2) == [one]
