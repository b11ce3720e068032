"""The message log: every message Polku sent or decided not to send.

One item per (journey execution, step): ``message_id`` is derived from both, which is
what makes the send step idempotent (a conditional write claims it). Queryable per
customer (``by_customer``) and per journey (``by_journey``), newest last.
"""

from __future__ import annotations

from typing import Any, Iterator

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data import base
from polku.data.base import PolkuModel, get_or_none, put_once, update_if


class MessagesByCustomer(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_customer"
        projection = AllProjection()

    customer_id = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class MessagesByJourney(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_journey"
        projection = AllProjection()

    journey = UnicodeAttribute(hash_key=True)
    created_at = UnicodeAttribute(range_key=True)


class MessageModel(PolkuModel):
    settings_field = "messages_table"

    class Meta:
        table_name = "set-from-settings"

    message_id = UnicodeAttribute(hash_key=True)  # deterministic: execution + state
    customer_id = UnicodeAttribute()
    journey = UnicodeAttribute()
    created_at = UnicodeAttribute()
    # sending -> sent -> delivered | bounced | complained; or skipped | deferred | failed | retry | unknown
    status = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    step = UnicodeAttribute(null=True)
    execution_id = UnicodeAttribute(null=True)
    variant = UnicodeAttribute(null=True)
    template = UnicodeAttribute(null=True)
    locale = UnicodeAttribute(null=True)
    message_type = UnicodeAttribute(null=True)
    address = UnicodeAttribute(null=True)  # suppression key, e.g. "email:ann@example.com"
    subject = UnicodeAttribute(null=True)
    scheduled_at = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    provider = UnicodeAttribute(null=True)  # "ses" | "sns" | "webhook"
    provider_id = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)  # why skipped / deferred / failed
    retry_at = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    recommended_products = ListAttribute(of=UnicodeAttribute, null=True)  # product ids shown in the message
    recommend_strategy = UnicodeAttribute(null=True)
    feedback = MapAttribute(null=True)  # delivered_at, opened_at, clicked_at, bounced_at, complained_at, ...
    # The web channel (docs/onsite.md): the rendered card {title, text, url (signed click link),
    # image_url} waiting in the customer's web inbox until expires_at; delivered when first shown.
    card = MapAttribute(null=True)
    expires_at = UnicodeAttribute(null=True)
    by_customer = MessagesByCustomer()
    by_journey = MessagesByJourney()


# -- the table's reads -------------------------------------------------------------------------

def get(message_id: str, consistent: bool = False) -> MessageModel | None:
    """One message, or None."""
    return get_or_none(MessageModel, message_id, consistent_read=consistent)


def of_customer(customer_id: str, limit: int | None = 100, newest_first: bool = True) -> list[MessageModel]:
    """The customer's messages, newest first unless told otherwise (at most ``limit``; all when None)."""
    return list(MessageModel.by_customer.query(customer_id, scan_index_forward=not newest_first, limit=limit))


def of_customer_since(customer_id: str, since: str) -> Iterator[MessageModel]:
    """The customer's messages created at or after ``since``, oldest first."""
    return MessageModel.by_customer.query(customer_id, MessageModel.created_at >= since)


def web_cards_since(customer_id: str, since: str) -> Iterator[MessageModel]:
    """The customer's web-channel messages created at or after ``since``, newest first."""
    return MessageModel.by_customer.query(customer_id, MessageModel.created_at >= since, scan_index_forward=False,
                                          filter_condition=MessageModel.channel == "web")


def of_journey(journey: str, since: str | None = None, limit: int | None = None) -> Iterator[MessageModel]:
    """The journey's (or campaign's) messages, oldest first (created at or after ``since``)."""
    condition = MessageModel.created_at >= since if since else None
    return MessageModel.by_journey.query(journey, condition, limit=limit)


# -- the exactly-once claim's writes (polku.messaging.message_log decides when) -----------------

def put_sending(message_id: str, created_at: str, now: str, attempts: int, fields: dict, *,
                over: MessageModel | None = None, from_statuses: tuple = ("sending",),
                without_provider: bool = False) -> MessageModel | None:
    """Write the message as being sent by this attempt. With ``over`` None, only if no attempt is
    stored; else only if the stored one is still ``over`` (same attempts) in one of ``from_statuses``
    (and has no provider, with ``without_provider``). The item written, or None."""
    if over is None:
        condition = MessageModel.message_id.does_not_exist()
    else:
        condition = MessageModel.status.is_in(*from_statuses) & (MessageModel.attempts == (over.attempts or 0))
        if without_provider:
            condition &= MessageModel.provider.does_not_exist()
    item = MessageModel(message_id, status="sending", created_at=created_at, updated_at=now, attempts=attempts,
                        feedback={}, **fields)
    return item if put_once(item, condition) else None


def _held(item: MessageModel) -> Any:
    """The condition that this attempt still holds the claim."""
    return (MessageModel.status == "sending") & (MessageModel.attempts == (item.attempts or 0))


def update_held(item: MessageModel, now: str, **values: Any) -> bool:
    """Set ``values`` (None removes an attribute) on a message this attempt still holds (status
    ``sending``, same attempts); False when it no longer does."""
    actions = [MessageModel.updated_at.set(now)]
    for name, value in values.items():
        attr = getattr(MessageModel, name)
        actions.append(attr.set(value) if value is not None else attr.remove())
    return update_if(item, actions, _held(item))


def mark_unknown(item: MessageModel, reason: str, now: str) -> None:
    """Mark a message still ``sending`` as ``unknown`` (``reason``); if it is no longer sending,
    read what it is now into ``item``."""
    if not update_if(item, [MessageModel.status.set("unknown"), MessageModel.updated_at.set(now),
                            MessageModel.reason.set(reason)], MessageModel.status == "sending"):
        item.refresh(consistent_read=True)


def add_feedback(item: MessageModel, key: str, at: str, now: str, status: str | None) -> bool:
    """Note ``key`` (e.g. ``opened_at``) once: a second note of the same key changes nothing
    (False). Sets ``status`` too, when given."""
    actions = [MessageModel.feedback[key].set(at), MessageModel.updated_at.set(now)]
    if status:
        actions.append(MessageModel.status.set(status))
    return update_if(item, actions, MessageModel.feedback[key].does_not_exist())


def delete_all(found: list[MessageModel]) -> int:
    """Delete these messages in batches; how many."""
    return base.delete_all(MessageModel, found)
