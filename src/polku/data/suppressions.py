"""Addresses that must not receive messages (bounces, complaints, unsubscribes), keyed by a salted
hash of the address (polku.messaging.suppression_list)."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from polku.data.base import PolkuModel, get_or_none, put_once


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


# -- the table's reads and writes (polku.messaging.suppression_list decides what they mean) ---

def find(address: str) -> SuppressionModel | None:
    """The row stored under ``address`` (a hash, or a plain address key of the earlier format),
    read consistently, or None."""
    return get_or_none(SuppressionModel, address, consistent_read=True)


def add_once(address: str, **attributes) -> bool:
    """Write a row only if none is stored under ``address`` (the first reason wins; the row there
    is kept). True when written."""
    return put_once(SuppressionModel(address, **attributes), SuppressionModel.address.does_not_exist())


def forget_source(row: SuppressionModel) -> None:
    """Remove the message and the customer that led to ``row`` (the opt-out stays)."""
    row.update(actions=[SuppressionModel.message_id.remove(), SuppressionModel.customer_id.remove()])


def delete(row: SuppressionModel) -> None:
    """Delete one row."""
    row.delete()


def addresses() -> list[str]:
    """The stored key of every row (a scan)."""
    return [row.address for row in SuppressionModel.scan()]
