"""Claims on the message log (the twin's real messages table): one attempt sends a message,
a retry takes a released message over, a replay gets the recorded outcome, an attempt
that died while sending is not sent again."""

from __future__ import annotations

import uuid

import pytest

from polku.data import messages
from polku.messaging import message_log

pytestmark = pytest.mark.twin

FIELDS = dict(customer_id="c1", journey="welcome", step="Send", execution_id="arn:exec", variant="A",
              template="welcome", message_type="offer")


@pytest.fixture
def mid(twin, virtual_clock):
    return f"m-{uuid.uuid4().hex[:16]}"


def test_the_first_attempt_claims_and_a_replay_gets_the_recorded_outcome(mid):
    first = message_log.claim(mid, **FIELDS)
    assert first.won and first.item.attempts == 1 and first.item.status == "sending"
    stored = messages.get(mid)
    assert (stored.status, stored.attempts, stored.customer_id, stored.created_at) == (
        "sending", 1, "c1", first.item.created_at)
    message_log.finish(first.item, "sent", channel="email")
    replay = message_log.claim(mid, **FIELDS)
    assert not replay.won and replay.item.status == "sent" and messages.get(mid).attempts == 1


def test_a_released_message_is_taken_over_once_keeping_when_it_was_created(mid, virtual_clock):
    first = message_log.claim(mid, **FIELDS)
    message_log.release(first.item, "boom")
    virtual_clock.advance(60)
    retry = message_log.claim(mid, **FIELDS)
    assert retry.won and retry.item.attempts == 2 and retry.item.created_at == first.item.created_at
    with pytest.raises(message_log.MessageInProgress):  # a second retry now finds it being sent
        message_log.claim(mid, **FIELDS)


def test_an_attempt_still_sending_blocks_others_and_one_that_died_after_hand_over_is_not_resent(mid, virtual_clock):
    first = message_log.claim(mid, **FIELDS)
    message_log.hand_over(first.item, "ses")
    with pytest.raises(message_log.MessageInProgress):
        message_log.claim(mid, **FIELDS)
    virtual_clock.advance(message_log.SENDING_LEASE_SECONDS + 1)
    late = message_log.claim(mid, **FIELDS)
    assert not late.won and late.item.status == "unknown" and "not resent" in late.item.reason
    assert messages.get(mid).status == "unknown"


def test_an_attempt_that_died_before_any_provider_saw_the_message_is_taken_over_after_the_lease(mid, virtual_clock):
    message_log.claim(mid, **FIELDS)
    with pytest.raises(message_log.MessageInProgress):
        message_log.claim(mid, **FIELDS)
    virtual_clock.advance(message_log.SENDING_LEASE_SECONDS + 1)
    late = message_log.claim(mid, **FIELDS)
    assert late.won and late.item.attempts == 2 and late.item.status == "sending" and late.item.provider is None
    with pytest.raises(message_log.MessageInProgress):  # and only one attempt takes it over
        message_log.claim(mid, **FIELDS)
