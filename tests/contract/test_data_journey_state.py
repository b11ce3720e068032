"""The journey state table's conditional writes (polku.data.journey_state) behave the same on
DynamoDB Local and on the twin: the run lock (re-entry policy), exiting a run, write-once items."""

from __future__ import annotations

import uuid

from polku.data import journey_state
from polku.data.journey_state import JourneyStateModel


def _run(**kw) -> dict:
    return {"entered_at": "2026-01-05T08:00:00Z", "status": "running", "execution_name": "e1", "runs": 1, **kw}


def test_claim_run_lets_one_of_two_first_entries_in(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    assert journey_state.claim_run(cid, "welcome", None, **_run()) is not None
    assert journey_state.claim_run(cid, "welcome", None, **_run(execution_name="e2")) is None
    assert journey_state.run(cid, "welcome").execution_name == "e1"  # the loser wrote nothing


def test_claim_run_replaces_only_the_run_it_read(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    journey_state.claim_run(cid, "welcome", None, **_run(status="exited"))
    previous = journey_state.run(cid, "welcome")
    second = journey_state.claim_run(cid, "welcome", previous, **_run(entered_at="2026-01-06T08:00:00Z",
                                                                       execution_name="e2", runs=2))
    assert second is not None and second.runs == 2
    # A writer that read the first run too is refused: the run changed under it.
    assert journey_state.claim_run(cid, "welcome", previous, **_run(entered_at="2026-01-06T09:00:00Z",
                                                                     execution_name="e3", runs=2)) is None
    stored = journey_state.run(cid, "welcome")
    assert (stored.execution_name, stored.journey, stored.runs) == ("e2", "welcome", 2)


def test_exit_run_only_the_running_run_named(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    journey_state.claim_run(cid, "welcome", None, **_run(execution_arn="arn:x:e1"))
    assert journey_state.exit_run(cid, "welcome", "arn:x:other", "goal", "2026-01-05T09:00:00Z") is False
    assert journey_state.run(cid, "welcome").status == "running"
    assert journey_state.exit_run(cid, "welcome", "arn:x:e1", "goal", "2026-01-05T09:00:00Z") is True
    assert journey_state.exit_run(cid, "welcome", None, "stopped", "2026-01-05T10:00:00Z") is False  # not running
    stored = journey_state.run(cid, "welcome")
    assert (stored.status, stored.exit_reason, stored.exited_at) == ("exited", "goal", "2026-01-05T09:00:00Z")
    # No run at all: nothing to exit, and nothing is created.
    assert journey_state.exit_run(cid, "other", None, "goal", "2026-01-05T09:00:00Z") is False
    assert journey_state.run(cid, "other") is None


def test_add_once_keeps_the_first_item(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    sk = f"{journey_state.OFFER}off_1"
    first = journey_state.add_once(cid, sk, journey="welcome", status="granting", detail={"code": "A"})
    assert first is not None
    assert journey_state.add_once(cid, sk, journey="welcome", status="granting", detail={"code": "B"}) is None
    journey_state.set_status(first, "granted")
    stored = journey_state.find(cid, sk)
    assert stored.status == "granted" and stored.detail.as_dict() == {"code": "A"}


def test_delete_all_removes_a_customers_items(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    for n in range(30):  # more than one batch
        journey_state.put(cid, f"{journey_state.LOG}{n:03d}", journey="welcome")
    found = journey_state.items(cid)
    assert journey_state.delete_all(found) == 30
    assert list(JourneyStateModel.query(cid, consistent_read=True)) == []
