"""The messages table's writes (polku.data.messages) behave the same on DynamoDB Local and on the
twin: the exactly-once claim's conditional writes, feedback noted once, batch delete."""

from __future__ import annotations

import uuid

from polku.data import messages


NOW = "2026-01-05T08:00:00.000Z"
LATER = "2026-01-05T08:10:00.000Z"


def _fields(cid: str) -> dict:
    return {"customer_id": cid, "journey": "welcome", "channel": "email", "step": "SendWelcome"}


def _new(cid: str | None = None):
    cid = cid or f"cust-{uuid.uuid4().hex}"
    mid = f"m_{uuid.uuid4().hex}"
    return mid, messages.put_sending(mid, NOW, NOW, 1, _fields(cid))


def test_one_of_two_first_attempts_claims_a_message(backend):
    mid, first = _new()
    assert first is not None and first.status == "sending" and first.attempts == 1
    assert messages.put_sending(mid, LATER, LATER, 1, _fields("someone-else")) is None
    stored = messages.get(mid, consistent=True)
    assert (stored.customer_id, stored.created_at) == (first.customer_id, NOW)  # the loser wrote nothing


def test_a_retry_takes_over_only_the_attempt_it_read(backend):
    mid, first = _new()
    assert messages.update_held(first, NOW, status="retry", reason="throttled")
    read = messages.get(mid, consistent=True)
    second = messages.put_sending(mid, read.created_at, LATER, 2, _fields(read.customer_id), over=read,
                                  from_statuses=("retry", "deferred"))
    assert second is not None and second.attempts == 2
    # Another retry that read the same attempt is refused: the message moved on under it.
    assert messages.put_sending(mid, read.created_at, LATER, 2, _fields(read.customer_id), over=read,
                                from_statuses=("retry", "deferred")) is None


def test_an_abandoned_claim_is_taken_over_only_before_any_provider_saw_it(backend):
    mid, first = _new()
    assert messages.update_held(first, NOW, provider="ses")
    read = messages.get(mid, consistent=True)
    assert messages.put_sending(mid, NOW, LATER, 2, _fields(read.customer_id), over=read,
                                without_provider=True) is None
    mid2, other = _new()
    read2 = messages.get(mid2, consistent=True)
    assert messages.put_sending(mid2, NOW, LATER, 2, _fields(read2.customer_id), over=read2,
                                without_provider=True) is not None


def test_an_attempt_that_lost_its_claim_writes_nothing(backend):
    mid, first = _new()
    assert messages.update_held(first, NOW, status="sent", provider_id="p-1", reason=None)
    stale = messages.get(mid, consistent=True)
    stale.status, stale.attempts = "sending", 1  # what the losing attempt still believes
    assert not messages.update_held(stale, LATER, status="failed")
    assert messages.get(mid, consistent=True).status == "sent"


def test_mark_unknown_changes_only_a_message_still_sending(backend):
    mid, first = _new()
    messages.mark_unknown(first, "died while sending", LATER)
    assert messages.get(mid, consistent=True).status == "unknown"
    mid2, second = _new()
    messages.update_held(second, NOW, status="sent")
    second.status = "sending"  # stale
    messages.mark_unknown(second, "died while sending", LATER)
    assert second.status == "sent" and messages.get(mid2, consistent=True).status == "sent"  # read back, kept


def test_feedback_of_a_kind_is_noted_once_and_messages_are_deleted(backend):
    cid = f"cust-{uuid.uuid4().hex}"
    mid, item = _new(cid)
    assert messages.add_feedback(item, "opened_at", NOW, NOW, None)
    assert not messages.add_feedback(item, "opened_at", LATER, LATER, None)
    assert messages.add_feedback(item, "delivery_at", NOW, NOW, "delivered")
    stored = messages.get(mid, consistent=True)
    assert stored.feedback.as_dict() == {"opened_at": NOW, "delivery_at": NOW} and stored.status == "delivered"
    _new(cid)
    found = messages.of_customer(cid, limit=None)
    assert len(found) == 2 and messages.delete_all(found) == 2 and messages.of_customer(cid) == []
