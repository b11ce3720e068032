"""Profiles table adapter: the customer's profile as a plain dict, whatever fields it has
(the profile builder owns its shape; recommendations read it tolerantly)."""

from __future__ import annotations

from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer

from polku import aws_clients
from polku.settings import get_settings

_deserializer = TypeDeserializer()


def _plain(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def customer_profile(customer_id: str) -> dict | None:
    item = aws_clients.client("dynamodb").get_item(TableName=get_settings().profiles_table, Key={"customer_id": {"S": str(customer_id)}}).get("Item")
    if not item:
        return None
    return _plain({k: _deserializer.deserialize(v) for k, v in item.items()})
