"""SQS adapter: hand chunks to the EnrollmentQueue (the worker enrols them)."""

from __future__ import annotations

import json
from functools import lru_cache

from polku.settings import get_settings


@lru_cache(maxsize=1)
def _client():
    import boto3

    return boto3.client("sqs")


def send_chunks(messages: list[dict]) -> None:
    url = get_settings().enrollment_queue_url
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        out = _client().send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))} for i, m in enumerate(batch)],
        )
        if out.get("Failed"):
            first = out["Failed"][0]
            raise RuntimeError(f"enrollment queue refused chunk: {first.get('Code')} {first.get('Message')}")
