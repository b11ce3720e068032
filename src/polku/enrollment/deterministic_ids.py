"""Deterministic ids: a retried request maps to the same enrolment and the same
Step Functions execution names, so each customer is enrolled once."""

from __future__ import annotations

import hashlib
import json


def _digest(*parts: str, length: int) -> str:
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return h[:length]


def request_hash(journey: str, role: str, customers: list[dict], overrides: dict, properties: dict | None = None) -> str:
    """A fingerprint of what was asked (order of customers does not matter)."""
    canonical = json.dumps(
        {
            "journey": journey,
            "role": role,
            "customers": sorted(customers, key=lambda c: c["customer_id"]),
            "overrides": overrides,
            **({"properties": properties} if properties else {}),  # (absent: the same hash as before)
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def enrollment_id(caller_arn: str, journey: str, idempotency_key: str) -> str:
    """20 hex characters, fixed for (caller, journey, idempotency key)."""
    return _digest(caller_arn, journey, idempotency_key, length=20)


def execution_name(enrollment: str, customer_id: str) -> str:
    """Step Functions execution name for one customer of one enrolment (<= 80 chars, [a-z0-9-])."""
    return f"enr-{enrollment}-{_digest(customer_id, length=24)}"
