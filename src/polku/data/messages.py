"""The message log: every message Polku sent or decided not to send.

One item per (journey execution, step): ``message_id`` is derived from both, which is
what makes the send step idempotent (a conditional write claims it). Queryable per
customer (``by_customer``) and per journey (``by_journey``), newest last.
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from polku.data.base import PolkuModel


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
