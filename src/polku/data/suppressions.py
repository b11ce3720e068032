"""Addresses that must not receive messages (bounces, complaints, unsubscribes), keyed by a salted
hash of the address (polku.messaging.suppression_list)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from polku.data.base import PolkuModel


class SuppressionModel(PolkuModel):
    settings_field = "suppressions_table"

    class Meta:
        table_name = "set-from-settings"

    # "h1:<hex HMAC-SHA256(salt, address key)>"; rows written before the hash were keyed by the address
    # key itself ("email:<addr>" | "sms:<e164>" | "push:<endpoint>") until an erase rewrites them
    address = UnicodeAttribute(hash_key=True)
    reason = UnicodeAttribute()  # "bounce" | "complaint" | "unsubscribe"
    created_at = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)  # only in rows of the earlier format (no longer written)
    message_id = UnicodeAttribute(null=True)  # the message that caused it
    detail = UnicodeAttribute(null=True)  # e.g. bounce type / sub-type
