"""The AWS-scale analytics path: export the reporting tables to S3 (DynamoDB
ExportTableToPointInTime, DynamoDB JSON, gzip) for Glue/Athena (docs/reporting.md).

Adapter + a tiny use case; the scheduled ``AnalyticsExportFunction`` calls :func:`export_all`.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from polku import clock
from polku.observability import logger
from polku.settings import Settings

# table setting -> S3 prefix (one Glue table each; the crawler reads exports/<name>/)
EXPORTED = {
    "messages_table": "messages",
    "events_table": "events",
    "journey_state_table": "journey_state",
    "enrollments_table": "enrollments",
}


def export_prefix(name: str, day: str) -> str:
    return f"exports/{name}/{day}"


def export_all(dynamodb, settings: Settings) -> list[dict]:
    """Start one export per table (a table without point-in-time recovery is skipped and said so)."""
    day = clock.now_iso()[:10]
    results = []
    for field, name in EXPORTED.items():
        table = getattr(settings, field)
        arn = dynamodb.describe_table(TableName=table)["Table"]["TableArn"]
        try:
            out = dynamodb.export_table_to_point_in_time(
                TableArn=arn, S3Bucket=settings.analytics_bucket, S3Prefix=export_prefix(name, day),
                ExportFormat="DYNAMODB_JSON", ClientToken=f"{name}-{day}",
            )
            results.append({"table": table, "export_arn": out["ExportDescription"]["ExportArn"]})
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code not in ("PointInTimeRecoveryUnavailableException", "ExportConflictException"):
                raise
            logger.warning("table not exported", extra={"table": table, "reason": code})
            results.append({"table": table, "skipped": code})
    return results
