"""SQS adapter: hand chunks to the EnrollmentQueue (the worker enrols them)."""

from __future__ import annotations

import json

from polku import aws_clients
from polku.settings import get_settings


def send_chunks(messages: list[dict]) -> None:
    url = get_settings().enrollment_queue_url
    for start in range(0, len(messages), 10):
        batch = messages[start : start + 10]
        out = aws_clients.client("sqs").send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": json.dumps(m, separators=(",", ":"))} for i, m in enumerate(batch)],
        )
        if out.get("Failed"):
            first = out["Failed"][0]
            raise RuntimeError(f"enrollment queue refused chunk: {first.get('Code')} {first.get('Message')}")
