"""The suppression list (adapter over the suppressions table)."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, PutError

from polku import clock
from polku.data.suppressions import SuppressionModel


def address_key(channel: str, address: str) -> str:
    """``("email", "Ann@Example.com")`` -> ``"email:ann@example.com"``."""
    address = address.strip()
    if channel == "email":
        address = address.lower()
    return f"{channel}:{address}"


def is_suppressed(key: str) -> bool:
    try:
        SuppressionModel.get(key, consistent_read=True)
        return True
    except DoesNotExist:
        return False


def suppress(key: str, reason: str, *, customer_id: str | None = None, message_id: str | None = None, detail: str | None = None) -> bool:
    """Add ``key`` (first reason wins). True if it was not suppressed before."""
    item = SuppressionModel(
        key, reason=reason, created_at=clock.now_iso(), customer_id=customer_id, message_id=message_id, detail=detail
    )
    try:
        item.save(condition=SuppressionModel.address.does_not_exist())
        return True
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
