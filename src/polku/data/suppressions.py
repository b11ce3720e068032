"""Addresses that must not receive messages (bounces, complaints, unsubscribes)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from polku.data.base import PolkuModel


class SuppressionModel(PolkuModel):
    settings_field = "suppressions_table"

    class Meta:
        table_name = "set-from-settings"

    address = UnicodeAttribute(hash_key=True)  # "email:<addr>" | "sms:<e164>" | "push:<endpoint>"
    reason = UnicodeAttribute()  # "bounce" | "complaint" | "unsubscribe"
    created_at = UnicodeAttribute()
    customer_id = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)  # the message that caused it
    detail = UnicodeAttribute(null=True)  # e.g. bounce type / sub-type
