"""The AWS-scale path on the twin: the daily export function writes the message log to the
AnalyticsBucket under exports/messages/<day>/ (what the Glue crawler reads)."""

from __future__ import annotations

import json

import pytest

from polku import clock

pytestmark = pytest.mark.twin


def test_export_function_writes_tables_with_pitr_and_skips_others(twin):
    ddb = twin.client("dynamodb")
    messages = twin.names["MessagesTable"]
    ddb.update_continuous_backups(TableName=messages,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.put_item(TableName=messages, Item={"message_id": {"S": "m_export_probe"}, "customer_id": {"S": "c-x"},
                                           "journey": {"S": "welcome"}, "created_at": {"S": "2024-01-01T00:00:00Z"},
                                           "status": {"S": "sent"}})
    out = twin.client("lambda").invoke(FunctionName=twin.names["AnalyticsExportFunction"], Payload=b"{}")
    assert "FunctionError" not in out
    exports = {e["table"]: e for e in json.loads(out["Payload"].read())["exports"]}
    assert set(exports) == {messages, twin.names["EventsTable"], twin.names["JourneyStateTable"],
                            twin.names["EnrollmentsTable"]}
    assert "export_arn" in exports[messages]
    bucket = twin.outputs["AnalyticsBucketName"]
    keys = [o["Key"] for o in twin.client("s3").list_objects_v2(
        Bucket=bucket, Prefix=f"exports/messages/{clock.now_iso()[:10]}").get("Contents", [])]
    assert keys, "no export objects written"
