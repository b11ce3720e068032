"""Asynchronous, batched stream delivery in the twin: order, partial failures, retries, DLQ."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pytest

from polku.twin import lambda_runtime, streams

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "functions"


@pytest.fixture
def flaky_stream(twin):
    ddb, sqs = twin.client("dynamodb"), twin.client("sqs")
    table = f"stream-test-{uuid.uuid4().hex[:8]}"
    desc = ddb.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    dlq_url = sqs.create_queue(QueueName=f"dlq-{table}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    fn = f"flaky-{table}"
    lambda_runtime.register(lambda_runtime.FunctionSpec(name=fn, logical_id="Flaky", code_dir=FIXTURES,
                                                        handler="flaky_consumer.lambda_handler"))
    # As the template's mappings: partial batch failures and BisectBatchOnFunctionError.
    mapping = streams.StreamMapping(table=table, function=fn, stream_arn=desc["LatestStreamArn"], batch_size=10,
                                    max_retries=2, report_item_failures=True, bisect=True, on_failure=dlq_arn)
    streams.register(mapping)
    streams.configure(True)
    module = sys.modules.get(f"polku_fn.{FIXTURES.name}.flaky_consumer")
    if module:
        module.SEEN.clear()
    yield ddb, sqs, table, dlq_url, mapping
    streams.configure(twin.stream_delivery == "async")
    mapping.stopped = True
    mapping.wake.set()


def test_records_arrive_in_order_once_and_a_poison_record_goes_to_the_dlq(flaky_stream, virtual_clock):
    ddb, sqs, table, dlq_url, mapping = flaky_stream
    ids = [f"r{i:02d}" for i in range(25)]
    for rid in ids:
        item = {"id": {"S": rid}}
        if rid == "r07":
            item["poison"] = {"BOOL": True}
        ddb.put_item(TableName=table, Item=item)
    assert streams.drain(30)
    seen = sys.modules[f"polku_fn.{FIXTURES.name}.flaky_consumer"].SEEN
    # Everything but the poison record, in write order, exactly once.
    assert seen == [r for r in ids if r != "r07"]
    assert mapping.dead_lettered == 1
    messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(messages[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["DDBStreamBatchInfo"]["batchSize"] == 1
    # Two retries backed off on the shared clock (2 s, then 4 s), not in wall time.
    assert (virtual_clock.now() - virtual_clock_start(virtual_clock)).total_seconds() >= 6


def virtual_clock_start(vc):
    import datetime as dt

    return dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def test_delivery_is_batched(flaky_stream):
    ddb, sqs, table, dlq_url, mapping = flaky_stream
    calls = []
    original = lambda_runtime.invoke

    def counting(name, event):
        if name == mapping.function:
            calls.append(len(event["Records"]))
        return original(name, event)

    lambda_runtime.invoke = counting
    try:
        with streams.paused():  # 30 records queue up while delivery is held
            for i in range(30):
                ddb.put_item(TableName=table, Item={"id": {"S": f"b{i}"}})
        assert streams.drain(30)
    finally:
        lambda_runtime.invoke = original
    assert sum(calls) == 30
    assert calls == [10, 10, 10]  # BatchSize
