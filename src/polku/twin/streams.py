"""DynamoDB stream -> Lambda delivery in the twin, as AWS does it: asynchronous and batched.

By default the twin delivers as moto does, synchronously inside PutItem, one record at a time
(each record once, with a sequence number of its own, also under concurrent writers). With ``Twin(stream_delivery="async")`` the twin instead keeps each shard's new records in order
and a poller thread per (table, function) mapping delivers them in batches of up to
``BatchSize``, honouring the mapping's template settings:

* ``FunctionResponseTypes: [ReportBatchItemFailures]``: records from the first reported failure
  on are delivered again; without it any error retries the whole batch;
* ``MaximumRetryAttempts`` (then the batch's metadata goes to ``DestinationConfig.OnFailure``,
  an SQS queue, and the poller moves on — as on AWS);
* ``BisectBatchOnFunctionError``: a failing batch is split in two before retrying.

Retries back off on the shared clock. While records wait for delivery the poller counts as an
actor of the virtual clock, so virtual time does not pass with undelivered records.
``drain()`` waits (in real time) until every pending record is delivered.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from polku import clock as polku_clock
from polku.twin import lambda_runtime

_lock = threading.Condition()
_mappings: dict[str, list["StreamMapping"]] = {}  # table name -> mappings
_applied = False
_mode = {"async": False}
_paused = threading.Event()


@dataclass
class StreamMapping:
    table: str
    function: str
    stream_arn: str
    batch_size: int = 100
    max_retries: int = -1  # -1: until the record expires (AWS default); the twin caps it
    bisect: bool = False
    report_item_failures: bool = False
    on_failure: str | None = None  # SQS queue ARN
    pending: list[dict] = field(default_factory=list)
    busy: bool = False
    delivered: int = 0
    dead_lettered: int = 0
    wake: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    stopped: bool = False
    clock: Any = None  # the clock the poller counts as an actor of while it has work (the writer's)


def configure(asynchronous: bool) -> None:
    _mode["async"] = asynchronous


def register(mapping: StreamMapping) -> None:
    with _lock:
        _mappings.setdefault(mapping.table, []).append(mapping)
    mapping.thread = threading.Thread(target=_poll, args=(mapping,), name=f"stream-{mapping.function}", daemon=True)
    mapping.thread.start()


def clear() -> None:
    with _lock:
        for ms in _mappings.values():
            for m in ms:
                m.stopped = True
                m.wake.set()
        _mappings.clear()


class paused:
    """``with streams.paused():`` holds delivery (records queue up) until the block ends."""

    def __enter__(self):
        _paused.set()
        return self

    def __exit__(self, *exc):
        _paused.clear()
        with _lock:
            for ms in _mappings.values():
                for m in ms:
                    m.wake.set()


def drain(timeout: float = 60.0) -> bool:
    """Block until no mapping has records waiting or in flight. True when drained."""
    import time

    deadline = time.monotonic() + timeout
    with _lock:
        while any(m.pending or m.busy for ms in _mappings.values() for m in ms):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            _lock.wait(left)
    return True


def stats() -> dict[str, dict[str, int]]:
    with _lock:
        return {
            m.function: {"delivered": m.delivered, "dead_lettered": m.dead_lettered, "pending": len(m.pending)}
            for ms in _mappings.values()
            for m in ms
        }


_shard_lock = threading.Lock()


def _next_record(shard, old, new):
    """The shard's next stream record, with a sequence number no other record has. moto numbered
    records by the length of its record list, so concurrent writers got the same number."""
    from moto.dynamodb.models.table import StreamRecord

    t = shard.table.stream_specification["StreamViewType"]
    event_name = "INSERT" if old is None else ("REMOVE" if new is None else "MODIFY")
    with _shard_lock:
        seq = getattr(shard, "_polku_next_seq", shard.starting_sequence_number)
        shard._polku_next_seq = seq + 1
    return StreamRecord(shard.table, t, event_name, old, new, seq)


def _deliver_now(shard, record) -> None:
    """moto's synchronous delivery, for one record: every stream mapping of the table gets this
    record (and only it) inside the write that made it.

    moto appended the record to the shard's list, handed the whole list to each consumer and then
    replaced it with an empty one. With writers on several threads (the ingest writes a batch in
    parallel) a record appended by one thread was handed over again by every other thread's write
    until some thread emptied the list, and one appended between another thread's hand-over and its
    emptying was never delivered: one request of 100 events of 100 customers started about half of
    its journeys (issue #21, 3)."""
    from moto.awslambda.utils import get_backend

    for arn, esm in list(shard.table.lambda_event_source_mappings.items()):
        get_backend(shard.account_id, arn.split(":")[3]).send_dynamodb_items(arn, [record], esm.event_source_arn)


def apply() -> None:
    """Patch moto's StreamShard.add: records get unique sequence numbers; each is delivered once,
    synchronously (default) or queued for the pollers (async). Idempotent."""
    global _applied
    if _applied:
        return
    _applied = True
    from moto.dynamodb.models.table import StreamShard

    def add(self, old, new):
        from polku.twin import patches

        if "dynamodb_partition_query" in patches.applied():  # (this replaces that patch's wrapper too)
            from polku.twin.patches.dynamodb_partition_query import gsi_index_item

            gsi_index_item(self.table, new)  # before a consumer can query the index for it
        record = _next_record(self, old, new)
        mappings = _mappings.get(self.table.name) if _mode["async"] else None
        if not mappings:
            _deliver_now(self, record)
            return
        self.items.append(record)  # (the shard's records, as moto keeps them for GetRecords)
        payload = _lambda_record(record.to_json(), mappings[0].stream_arn)
        clk = polku_clock.get_clock()
        with _lock:
            for m in mappings:
                if not m.pending and not m.busy:
                    clk.enter()  # the poller has work: time waits for it
                    m.clock = clk
                m.pending.append(payload)
                m.wake.set()

    StreamShard.add = add


def _lambda_record(record: dict, stream_arn: str) -> dict:
    from moto.core.utils import unix_time

    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if created is not None and not isinstance(created, (int, float)):
        dynamodb["ApproximateCreationDateTime"] = unix_time(created)
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb",
        "awsRegion": stream_arn.split(":")[3],
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def _poll(m: StreamMapping) -> None:
    while not m.stopped:
        m.wake.wait()
        with _lock:
            m.wake.clear()
            if m.stopped:
                return
            if not m.pending or _paused.is_set():
                continue
            batch = m.pending[: m.batch_size]
            del m.pending[: len(batch)]
            m.busy = True
        clk = m.clock or polku_clock.get_clock()
        try:
            with polku_clock.bound(clk):  # deliver (and back off) on the clock that counts the poller
                _deliver(m, batch)
        finally:
            with _lock:
                m.busy = False
                idle = not m.pending
                if not idle:
                    m.wake.set()
                _lock.notify_all()
            if idle:
                clk.leave()


def _deliver(m: StreamMapping, batch: list[dict]) -> None:
    # Each chunk carries its own retry count; as on AWS, splitting a batch in two does not count
    # towards MaximumRetryAttempts.
    queue: list[tuple[list[dict], int]] = [(batch, 0)]
    limit = m.max_retries if m.max_retries >= 0 else 10
    while queue:
        records, attempts = queue.pop(0)
        result, error = lambda_runtime.invoke(m.function, {"Records": records})
        failed_from = None
        if error is None and m.report_item_failures and isinstance(result, dict):
            failures = result.get("batchItemFailures") or []
            seqs = [f.get("itemIdentifier") for f in failures]
            positions = [i for i, r in enumerate(records) if r["dynamodb"]["SequenceNumber"] in seqs]
            if positions:
                failed_from = min(positions)
        if error is None and failed_from is None:
            m.delivered += len(records)
            continue
        if error is None:
            m.delivered += failed_from
            records = records[failed_from:]
        if m.bisect and len(records) > 1:
            half = len(records) // 2
            queue[:0] = [(records[:half], attempts), (records[half:], attempts)]
            continue
        attempts += 1
        if attempts > limit:
            _dead_letter(m, records, error or "batchItemFailures")
            continue
        polku_clock.get_clock().sleep(min(2 ** attempts, 60))
        queue.insert(0, (records, attempts))


def _dead_letter(m: StreamMapping, records: list[dict], reason: str) -> None:
    m.dead_lettered += len(records)
    if not m.on_failure:
        return
    import boto3

    queue_name = m.on_failure.rsplit(":", 1)[-1]
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=queue_name)["QueueUrl"]
    body: dict[str, Any] = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": m.function},
        "responseContext": {"functionError": reason},
        "DDBStreamBatchInfo": {
            "streamArn": m.stream_arn,
            "batchSize": len(records),
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
        },
        # AWS sends only metadata; the twin adds the event ids to make tests and debugging easier.
        "eventIDs": [r["eventID"] for r in records],
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
