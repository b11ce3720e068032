"""The message log (adapter over the messages table) and the exactly-once claim.

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
from typing import Any, Iterable

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from polku import clock
from polku.data.messages import MessageModel

SENDING_LEASE_SECONDS = 300  # > the Send function's Timeout; Send's Retry on MessageInProgress outlasts it
OUTCOME_WRITE_PAUSES = (0.05, 0.2, 0.5)  # seconds before the 2nd, 3rd and 4th try of recording an outcome
RECLAIMABLE = ("retry", "deferred")
FINAL = ("sent", "delivered", "bounced", "complained", "skipped", "failed", "unknown")
SENT_STATES = ("sent", "delivered", "bounced", "complained")


class MessageInProgress(Exception):
    """Another attempt of the same step is sending right now (retry later)."""


def message_id_for(execution_id: str, step: str) -> str:
    digest = hashlib.sha256(f"{execution_id}\x00{step}".encode("utf-8")).hexdigest()
    return f"m_{digest[:32]}"


@dataclass
class Claim:
    won: bool
    item: MessageModel


def claim(message_id: str, **fields: Any) -> Claim:
    """Try to become the one attempt that sends ``message_id``.

    The first attempt (by far the most common) is one conditional write; only when the
    message is already there is it read, to see whether a retry may take it over."""
    now = clock.now_iso()
    item = _put_sending(message_id, now, now, 1, MessageModel.message_id.does_not_exist(), fields)
    if item is not None:
        return Claim(True, item)
    try:
        existing = MessageModel.get(message_id, consistent_read=True)
    except DoesNotExist:
        existing = None  # deleted since (a message is never deleted by Polku): claim it as new
    if existing is None:
        item = _put_sending(message_id, now, now, 1, MessageModel.message_id.does_not_exist(), fields)
    elif existing.status in RECLAIMABLE:
        condition = MessageModel.status.is_in(*RECLAIMABLE) & (MessageModel.attempts == (existing.attempts or 0))
        item = _put_sending(message_id, existing.created_at, now, int(existing.attempts or 0) + 1, condition, fields)
    elif _abandoned_before_provider(existing):
        # The attempt died after claiming and before any provider saw the message: sending is safe.
        condition = ((MessageModel.status == "sending") & (MessageModel.attempts == (existing.attempts or 0))
                     & MessageModel.provider.does_not_exist())
        item = _put_sending(message_id, existing.created_at, now, int(existing.attempts or 0) + 1, condition, fields)
    else:
        return Claim(False, _check_lease(existing))
    if item is not None:
        return Claim(True, item)
    return Claim(False, _check_lease(MessageModel.get(message_id, consistent_read=True)))


def _put_sending(message_id: str, created_at: str, now: str, attempts: int, condition: Any, fields: dict) -> MessageModel | None:
    """The message written as being sent by this attempt, if ``condition`` holds; else None."""
    item = MessageModel(message_id, status="sending", created_at=created_at, updated_at=now, attempts=attempts,
                        feedback={}, **fields)
    try:
        item.save(condition=condition)
        return item
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    return None


def _lease_expired(item: MessageModel) -> bool:
    started = clock.parse_iso(item.updated_at or item.created_at)
    return clock.now() - started >= dt.timedelta(seconds=SENDING_LEASE_SECONDS)


def _abandoned_before_provider(item: MessageModel) -> bool:
    return item.status == "sending" and not item.provider and _lease_expired(item)


def _check_lease(item: MessageModel) -> MessageModel:
    if item.status != "sending":
        return item
    if not _lease_expired(item):
        raise MessageInProgress(f"message {item.message_id} is being sent by another attempt")
    try:
        item.update(
            actions=[MessageModel.status.set("unknown"), MessageModel.updated_at.set(clock.now_iso()),
                     MessageModel.reason.set("an earlier attempt stopped while sending; not resent")],
            condition=MessageModel.status == "sending",
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        item.refresh(consistent_read=True)
    return item


def _held(item: MessageModel) -> Any:
    """The condition that this attempt still holds the claim."""
    return (MessageModel.status == "sending") & (MessageModel.attempts == (item.attempts or 0))


def finish(item: MessageModel, status: str, **fields: Any) -> MessageModel:
    """Record the outcome of the attempt that holds the claim."""
    actions = [MessageModel.status.set(status), MessageModel.updated_at.set(clock.now_iso())]
    for name, value in fields.items():
        attr = getattr(MessageModel, name)
        actions.append(attr.set(value) if value is not None else attr.remove())
    item.update(actions=actions, condition=_held(item))
    return item


def hand_over(item: MessageModel, provider: str) -> None:
    """Note, just before the provider call, that this attempt hands the message to ``provider``.
    After this the claim is never released for a resend (an attempt that dies now ends ``unknown``)."""
    item.update(actions=[MessageModel.provider.set(provider), MessageModel.updated_at.set(clock.now_iso())],
                condition=_held(item))


def record_outcome(item: MessageModel, status: str, **fields: Any) -> bool:
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
        except UpdateError as exc:
            error = exc
            if exc.cause_response_code == "ConditionalCheckFailedException":
                # Either an earlier try was written although its answer was lost, or the claim is no
                # longer ours (a later attempt saw the lease expire): never overwrite.
                stored = get(item.message_id, consistent=True)
                if stored is not None and stored.status == status and stored.attempts == item.attempts:
                    return True
                break
        except Exception as exc:  # noqa: BLE001 - any failure to write is retried, then reported
            error = exc
    _outcome_not_recorded(item, status, fields, error)
    return False


def _outcome_not_recorded(item: MessageModel, status: str, fields: dict, error: Exception | None) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from polku.observability import logger, metrics

    logger.error(
        "message outcome not recorded: the claim stays 'sending' and the message is not resent",
        extra={"message_id": item.message_id, "status": status, "provider": fields.get("provider"),
               "provider_id": fields.get("provider_id"), "error": f"{type(error).__name__}: {str(error)[:300]}"},
    )
    metrics.add_metric(name="MessageOutcomeNotRecorded", unit=MetricUnit.Count, value=1)


def release(item: MessageModel, reason: str) -> None:
    """Give the claim back after an unexpected error (only if nothing was recorded yet)."""
    try:
        finish(item, "retry", reason=reason)
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def recent_sends(customer_id: str, since: dt.datetime) -> list[dt.datetime]:
    """When the customer's messages (any journey) were sent since ``since`` (web cards wait in
    the web inbox and count for no frequency cap)."""
    out = []
    for m in MessageModel.by_customer.query(customer_id, MessageModel.created_at >= clock.to_iso(since)):
        if m.status in SENT_STATES and m.message_type != "transactional" and m.channel != "web":
            out.append(clock.parse_iso(m.sent_at or m.created_at))
    return out


def for_customer(customer_id: str, limit: int = 100) -> list[MessageModel]:
    return list(MessageModel.by_customer.query(customer_id, scan_index_forward=False, limit=limit))


def for_journey(journey: str, since: str | None = None, limit: int | None = None) -> Iterable[MessageModel]:
    condition = MessageModel.created_at >= since if since else None
    return MessageModel.by_journey.query(journey, condition, limit=limit)


def get(message_id: str, consistent: bool = False) -> MessageModel | None:
    try:
        return MessageModel.get(message_id, consistent_read=consistent)
    except DoesNotExist:
        return None


STATUS_FROM_FEEDBACK = {"delivery": "delivered", "bounce": "bounced", "complaint": "complained"}


def record_feedback(message_id: str, kind: str, at: str) -> bool:
    """Note a delivery/bounce/complaint/open/click on the message (the first one of each
    kind counts; redelivered feedback changes nothing). False if the message is unknown."""
    key = f"{kind}_at"
    item = get(message_id)
    if item is None:
        return False
    actions = [MessageModel.feedback[key].set(at), MessageModel.updated_at.set(clock.now_iso())]
    status = STATUS_FROM_FEEDBACK.get(kind)
    if status and not (status == "delivered" and item.status in ("bounced", "complained")):
        actions.append(MessageModel.status.set(status))
    try:
        item.update(actions=actions, condition=MessageModel.feedback[key].does_not_exist())
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    return True
