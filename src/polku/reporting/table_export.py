"""The AWS-scale analytics path: export the reporting tables to S3 (DynamoDB
ExportTableToPointInTime, DynamoDB JSON, gzip) for Glue/Athena (docs/reporting.md).

Adapter + a tiny use case; the scheduled ``AnalyticsExportFunction`` calls :func:`export_all`.
Erasing a person (polku.tracking.privacy) rewrites the exported files without them
(:func:`rewrite_exports`).
"""

from __future__ import annotations

import gzip
import json
from typing import Callable

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


# ------------------------------------------------------------------ erasing one person from the exports

EXPORTS_PREFIX = "exports/"


def _lines(body: bytes, gzipped: bool) -> list[str]:
    text = (gzip.decompress(body) if gzipped else body).decode("utf-8")
    return [line for line in text.split("\n") if line.strip()]


def rewrite_exports(s3, bucket: str, decide: Callable[[dict], dict | None]) -> dict:
    """Pass every exported item (the ``Item`` of each line of each data file under ``exports/``, as
    DynamoDB JSON) through ``decide``: ``None`` drops the line, another dict replaces it, the same
    dict keeps it. A file that changed is written again under the same key (same compression).
    Manifests hold no items and are left alone. Returns the counts of files and lines changed."""
    counts = {"files": 0, "lines_removed": 0, "lines_rewritten": 0}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=EXPORTS_PREFIX):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if "/data/" not in key:
                continue
            gzipped = key.endswith(".gz")
            out, changed = [], False
            for line in _lines(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), gzipped):
                record = json.loads(line)
                item = record.get("Item") if isinstance(record, dict) else None
                if not isinstance(item, dict):
                    out.append(line)
                    continue
                new = decide(item)
                if new is None:
                    counts["lines_removed"] += 1
                    changed = True
                elif new is not item:
                    out.append(json.dumps({**record, "Item": new}, separators=(",", ":")))
                    counts["lines_rewritten"] += 1
                    changed = True
                else:
                    out.append(line)
            if changed:
                body = ("\n".join(out) + "\n" if out else "").encode("utf-8")
                s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(body) if gzipped else body)
                counts["files"] += 1
    return counts


def find_in_exports(s3, bucket: str, select: Callable[[dict], bool]) -> list[dict]:
    """The exported items ``select`` picks (DynamoDB JSON), each with the file it is in."""
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=EXPORTS_PREFIX):
        for obj in page.get("Contents", []):
            if "/data/" not in obj["Key"]:
                continue
            body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            for line in _lines(body, obj["Key"].endswith(".gz")):
                item = json.loads(line).get("Item")
                if isinstance(item, dict) and select(item):
                    found.append({"file": obj["Key"], "item": item})
    return found
