"""The exactly-once claim on the message log (the messages table: :mod:`polku.data.messages`).

``message_id`` is derived from the journey execution and the state that sends, so a
retried step finds its earlier attempt. :func:`claim` writes the item on the condition
that no attempt exists yet (or the earlier one ended ``retry``/``deferred``); whoever
wins the write sends, everybody else gets the stored outcome back.

An item left in ``sending`` longer than :data:`SENDING_LEASE_SECONDS` (more than a
Lambda time-out) belongs to an attempt that died between the provider call and the
log update: the provider may or may not have accepted it, so it is marked ``unknown``
and not sent again (at most once beats twice).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from polku import clock
from polku.data import messages

SENDING_LEASE_SECONDS = 300  # > the Send function's Timeout; Send's Retry on MessageInProgress outlasts it
OUTCOME_WRITE_PAUSES = (0.05, 0.2, 0.5)  # seconds before the 2nd, 3rd and 4th try of recording an outcome
RECLAIMABLE = ("retry", "deferred")
FINAL = ("sent", "delivered", "bounced", "complained", "skipped", "failed", "unknown")
SENT_STATES = ("sent", "delivered", "bounced", "complained")


class MessageInProgress(Exception):
    """Another attempt of the same step is sending right now (retry later)."""


class ClaimLost(Exception):
    """This attempt no longer holds the message's claim (its outcome was written already, or a
    later attempt found the lease expired)."""


def message_id_for(execution_id: str, step: str) -> str:
    digest = hashlib.sha256(f"{execution_id}\x00{step}".encode("utf-8")).hexdigest()
    return f"m_{digest[:32]}"


@dataclass
class Claim:
    won: bool
    item: messages.MessageModel


def claim(message_id: str, **fields: Any) -> Claim:
    """Try to become the one attempt that sends ``message_id``.

    The first attempt (by far the most common) is one conditional write; only when the
    message is already there is it read, to see whether a retry may take it over."""
    now = clock.now_iso()
    item = messages.put_sending(message_id, now, now, 1, fields)
    if item is not None:
        return Claim(True, item)
    existing = messages.get(message_id, consistent=True)
    if existing is None:  # deleted since (a message is never deleted by Polku): claim it as new
        item = messages.put_sending(message_id, now, now, 1, fields)
    elif existing.status in RECLAIMABLE:
        item = messages.put_sending(message_id, existing.created_at, now, int(existing.attempts or 0) + 1, fields,
                                    over=existing, from_statuses=RECLAIMABLE)
    elif _abandoned_before_provider(existing):
        # The attempt died after claiming and before any provider saw the message: sending is safe.
        item = messages.put_sending(message_id, existing.created_at, now, int(existing.attempts or 0) + 1, fields,
                                    over=existing, without_provider=True)
    else:
        return Claim(False, _check_lease(existing))
    if item is not None:
        return Claim(True, item)
    return Claim(False, _check_lease(messages.get(message_id, consistent=True)))


def _lease_expired(item) -> bool:
    started = clock.parse_iso(item.updated_at or item.created_at)
    return clock.now() - started >= dt.timedelta(seconds=SENDING_LEASE_SECONDS)


def _abandoned_before_provider(item) -> bool:
    return item.status == "sending" and not item.provider and _lease_expired(item)


def _check_lease(item):
    if item.status != "sending":
        return item
    if not _lease_expired(item):
        raise MessageInProgress(f"message {item.message_id} is being sent by another attempt")
    messages.mark_unknown(item, "an earlier attempt stopped while sending; not resent", clock.now_iso())
    return item


def finish(item, status: str, **fields: Any):
    """Record the outcome of the attempt that holds the claim (:class:`ClaimLost` if it does not)."""
    if not messages.update_held(item, clock.now_iso(), status=status, **fields):
        raise ClaimLost(f"message {item.message_id}: the claim was lost before {status!r} was recorded")
    return item


def hand_over(item, provider: str) -> None:
    """Note, just before the provider call, that this attempt hands the message to ``provider``.
    After this the claim is never released for a resend (an attempt that dies now ends ``unknown``)."""
    if not messages.update_held(item, clock.now_iso(), provider=provider):
        raise ClaimLost(f"message {item.message_id}: the claim was lost before the hand-over to {provider}")


def record_outcome(item, status: str, **fields: Any) -> bool:
    """:func:`finish`, tried again a few times (:data:`OUTCOME_WRITE_PAUSES`) when the write fails.

    Used once a provider has seen the message: the claim must never be released then. False if
    the outcome could not be recorded; the item stays ``sending`` (a later attempt finds it and,
    after the lease, marks it ``unknown``: not resent), and an error line with the
    ``MessageOutcomeNotRecorded`` metric says so (alarm on it)."""
    error: Exception | None = None
    for pause in (0.0, *OUTCOME_WRITE_PAUSES):
        if pause:
            time.sleep(pause)
        try:
            finish(item, status, **fields)
            return True
        except ClaimLost as exc:
            # Either an earlier try was written although its answer was lost, or the claim is no
            # longer ours (a later attempt saw the lease expire): never overwrite.
            error = exc
            stored = messages.get(item.message_id, consistent=True)
            if stored is not None and stored.status == status and stored.attempts == item.attempts:
                return True
            break
        except Exception as exc:  # noqa: BLE001 - any failure to write is retried, then reported
            error = exc
    _outcome_not_recorded(item, status, fields, error)
    return False


def _outcome_not_recorded(item, status: str, fields: dict, error: Exception | None) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from polku.observability import logger, metrics

    logger.error(
        "message outcome not recorded: the claim stays 'sending' and the message is not resent",
        extra={"message_id": item.message_id, "status": status, "provider": fields.get("provider"),
               "provider_id": fields.get("provider_id"), "error": f"{type(error).__name__}: {str(error)[:300]}"},
    )
    metrics.add_metric(name="MessageOutcomeNotRecorded", unit=MetricUnit.Count, value=1)


def release(item, reason: str) -> None:
    """Give the claim back after an unexpected error (only if nothing was recorded yet)."""
    try:
        finish(item, "retry", reason=reason)
    except ClaimLost:
        pass


def recent_sends(customer_id: str, since: dt.datetime) -> list[dt.datetime]:
    """When the customer's messages (any journey) were sent since ``since`` (web cards wait in
    the web inbox and count for no frequency cap)."""
    out = []
    for m in messages.of_customer_since(customer_id, clock.to_iso(since)):
        if m.status in SENT_STATES and m.message_type != "transactional" and m.channel != "web":
            out.append(clock.parse_iso(m.sent_at or m.created_at))
    return out


STATUS_FROM_FEEDBACK = {"delivery": "delivered", "bounce": "bounced", "complaint": "complained"}


def record_feedback(message_id: str, kind: str, at: str) -> bool:
    """Note a delivery/bounce/complaint/open/click on the message (the first one of each
    kind counts; redelivered feedback changes nothing). False if the message is unknown."""
    item = messages.get(message_id)
    if item is None:
        return False
    status = STATUS_FROM_FEEDBACK.get(kind)
    if status == "delivered" and item.status in ("bounced", "complained"):
        status = None
    messages.add_feedback(item, f"{kind}_at", at, clock.now_iso(), status)
    return True
