"""Addresses that must not receive messages (bounces, complaints, unsubscribes)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from polku.data.base import PolkuModel


class SuppressionModel(PolkuModel):
    settings_field = "suppressions_table"

    class Meta:
        table_name = "set-from-settings"

    address = UnicodeAttribute(hash_key=True)  # "email:<addr>" | "sms:<e164>" | "push:<endpoint>"
    reason = UnicodeAttribute()
    created_at = UnicodeAttribute()
