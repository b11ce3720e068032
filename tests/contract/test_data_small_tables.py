"""The conditional writes of the enrolments, suppressions and rate-limits tables
(polku.data.enrollments, polku.data.suppressions, polku.data.rate_limits) behave the same on
DynamoDB Local and on the twin: a request stored once, the first reason of an opt-out kept, a
counter that stops at its limit, a sending pause set once."""

from __future__ import annotations

import uuid

from polku.data import enrollments, rate_limits, suppressions


def test_a_request_is_stored_once(backend):
    eid = f"enr-{uuid.uuid4().hex}"
    assert enrollments.create_request(eid, journey="welcome", total=2, chunks=1, request_hash="h1") is True
    assert enrollments.create_request(eid, journey="other", total=9, chunks=3, request_hash="h2") is False
    stored = enrollments.request(eid)
    assert (stored.journey, stored.total, stored.request_hash, stored.kind) == ("welcome", 2, "h1", "meta")
    assert enrollments.request(f"enr-{uuid.uuid4().hex}") is None


def test_the_first_reason_of_an_opt_out_is_kept(backend):
    address = f"h1:{uuid.uuid4().hex}"
    assert suppressions.add_once(address, reason="bounce", created_at="t1", message_id="m1") is True
    assert suppressions.add_once(address, reason="complaint", created_at="t2") is False
    row = suppressions.find(address)
    assert (row.reason, row.created_at, row.message_id) == ("bounce", "t1", "m1")
    suppressions.forget_source(row)
    row = suppressions.find(address)
    assert (row.reason, row.message_id, row.customer_id) == ("bounce", None, None)
    suppressions.delete(row)
    assert suppressions.find(address) is None


def test_a_counter_stops_at_its_limit(backend):
    key = f"confirm#email#{uuid.uuid4().hex}@example.org#2026-12-04"
    assert [rate_limits.take(key, 2, 2_000_000_000) for _ in range(3)] == [True, True, False]
    [counter] = rate_limits.of_keys([key, f"{key}-none"])
    assert (counter.count, counter.expires_at) == (2, 2_000_000_000)  # the refused take counted nothing
    assert rate_limits.delete_all([counter]) == 1 and rate_limits.of_keys([key]) == []


def test_the_sending_pause_is_set_once(backend):
    rate_limits.lift_sending_pause()
    try:
        assert rate_limits.pause_sending("bounce rate 6%", "2026-12-04T10:00:00Z") is True
        assert rate_limits.pause_sending("complaint rate 1%", "2026-12-04T11:00:00Z") is False
        pause = rate_limits.sending_pause()
        assert (pause.reason, pause.since) == ("bounce rate 6%", "2026-12-04T10:00:00Z")
    finally:
        assert rate_limits.lift_sending_pause() is True
    assert rate_limits.sending_pause() is None and rate_limits.lift_sending_pause() is False
