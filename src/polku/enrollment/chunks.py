"""Split an accepted request into chunks for the SQS fan-out (pure).

A chunk holds at most ``max_customers`` customers and stays under
``max_bytes`` of JSON (SQS takes 256 KiB per message), so per-recipient
overrides never make a message too large.
"""

from __future__ import annotations

import json

CHUNK_CUSTOMERS = 500
CHUNK_BYTES = 200_000


def plan_chunks(customers: list[dict], max_customers: int = CHUNK_CUSTOMERS, max_bytes: int = CHUNK_BYTES) -> list[list[dict]]:
    chunks: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    for c in customers:
        if c.get("overrides"):
            entry = {"customer_id": c["customer_id"], "overrides": c["overrides"]}
            n = len(json.dumps(entry, separators=(",", ":")).encode("utf-8")) + 1
        else:  # ids are plain ASCII (request.py checks): the JSON size is exact without encoding it
            entry = {"customer_id": c["customer_id"]}
            n = len(c["customer_id"]) + 19
        if current and (len(current) >= max_customers or size + n > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(entry)
        size += n
    if current:
        chunks.append(current)
    return chunks


def chunk_message(enrollment: dict, number: int, customers: list[dict]) -> dict:
    """The SQS message body for one chunk: everything the worker needs, nothing to look up."""
    return {
        "enrollment_id": enrollment["enrollment_id"],
        "journey": enrollment["journey"],
        "state_machine": enrollment["state_machine"],
        "split": enrollment["split"],
        "requires_reachable": enrollment.get("requires_reachable", True),
        "role": enrollment["role"],
        "by": enrollment["caller_arn"],
        "overrides": enrollment["overrides"],
        "properties": enrollment.get("properties") or {},
        "chunk": number,
        "customers": customers,
    }
