"""Reads one profile item as a plain dict (raw DynamoDB, so every attribute the
profile builder writes is visible, whether or not this code's model names it)."""

from __future__ import annotations

from boto3.dynamodb.types import TypeDeserializer

_deserializer = TypeDeserializer()


def read_profile(client, table: str, customer_id: str) -> dict | None:
    item = client.get_item(TableName=table, Key={"customer_id": {"S": customer_id}}, ConsistentRead=True).get("Item")
    if not item:
        return None
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
