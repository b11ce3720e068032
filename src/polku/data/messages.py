"""The message log: every message Polku sent or decided not to send."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
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
    status = UnicodeAttribute()
    channel = UnicodeAttribute(null=True)
    by_customer = MessagesByCustomer()
    by_journey = MessagesByJourney()
