"""DynamoDB adapter for the report: scan whole tables into plain dicts.

Fine for the twin and for small stacks. At AWS scale, export the tables to S3
and query them with Athena instead (docs/reporting.md; template.yaml declares it).
"""

from __future__ import annotations

from boto3.dynamodb.types import TypeDeserializer

_des = TypeDeserializer()


def scan(client, table_name: str, projection: str | None = None) -> list[dict]:
    kwargs = {"TableName": table_name}
    if projection:
        kwargs["ProjectionExpression"] = projection
    items: list[dict] = []
    for page in client.get_paginator("scan").paginate(**kwargs):
        items.extend({k: _des.deserialize(v) for k, v in raw.items()} for raw in page["Items"])
    return items
