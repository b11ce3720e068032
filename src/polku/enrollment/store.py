"""Enrolment records: who may enrol (principals), the stored request, the audit trail.

The table's reads and writes, and its item shapes, are in :mod:`polku.data.enrollments`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from polku import clock
from polku.data import enrollments
from polku.data import profiles
from polku.enrollment.roles import ROLES, Caller, principal_arn

AUDIT_SAMPLE = 100


# ------------------------------------------------------------------ principals and partner links
def grant(arn: str, roles: list[str], partner_id: str | None = None) -> None:
    """Let the IAM identity ``arn`` enrol in ``roles`` (a partner needs ``partner_id``)."""
    bad = [r for r in roles if r not in ROLES]
    if bad or not roles:
        raise ValueError(f"roles: each must be one of {list(ROLES)}, got {roles}")
    if "partner" in roles and not partner_id:
        raise ValueError("partner_id: required for the partner role")
    enrollments.put_principal(principal_arn(arn), sorted(set(roles)), partner_id, clock.now_iso())


def lookup_caller(caller_arn: str) -> Caller | None:
    arn = principal_arn(caller_arn)
    item = enrollments.principal(arn)
    if item is None:
        return None
    return Caller(arn=arn, roles=frozenset(item.roles or []), partner_id=item.partner_id)


# ------------------------------------------------------------------ requests
@dataclass
class StoredRequest:
    enrollment_id: str
    journey: str
    role: str
    caller_arn: str
    partner_id: str | None
    total: int
    chunks: int
    overrides: dict
    request_hash: str
    created_at: str
    properties: dict = field(default_factory=dict)  # the runs' trigger properties


def _meta_to_stored(item: enrollments.EnrollmentModel) -> StoredRequest:
    return StoredRequest(
        enrollment_id=item.enrollment_id,
        journey=item.journey,
        role=item.role,
        caller_arn=item.caller_arn,
        partner_id=item.partner_id,
        total=int(item.total),
        chunks=int(item.chunks),
        overrides=json.loads(item.overrides or "{}"),
        request_hash=item.request_hash,
        created_at=item.created_at,
        properties=json.loads(item.properties or "{}"),
    )


def create_request(req: StoredRequest, per_recipient_overrides: int) -> bool:
    """Store a new request; False if one with this id already exists (a retry)."""
    return enrollments.create_request(
        req.enrollment_id,
        journey=req.journey,
        role=req.role,
        caller_arn=req.caller_arn,
        partner_id=req.partner_id,
        total=req.total,
        chunks=req.chunks,
        overrides=json.dumps(req.overrides, sort_keys=True),
        per_recipient_overrides=per_recipient_overrides,
        request_hash=req.request_hash,
        created_at=req.created_at,
        properties=json.dumps(req.properties, sort_keys=True) if req.properties else None,
    )


def get_request(enrollment_id: str) -> StoredRequest | None:
    item = enrollments.request(enrollment_id)
    return _meta_to_stored(item) if item is not None else None


# ------------------------------------------------------------------ chunk processing
def customer_profiles(customer_ids: list[str], attributes: tuple[str, ...]) -> dict[str, dict]:
    """The profiles of those customers that have one (only ``attributes``), as the profile reader
    gives them (:func:`polku.tracking.profile_store.from_model`)."""
    if not customer_ids:
        return {}
    from polku.tracking.profile_store import from_model

    return {p.customer_id: from_model(p) for p in profiles.of_customers(customer_ids, attributes)}


# ------------------------------------------------------------------ audit
# A refused request is audited with what the caller sent, which may be anything: every field is
# bounded so the item stays far below DynamoDB's 400 KB limit (a refusal is never a 500).
AUDIT_FIELD_CHARS = 256  # role, journey, partner, each sampled customer id
AUDIT_REASON_CHARS = 1024
AUDIT_ARN_CHARS = 2048
AUDIT_OVERRIDES_CHARS = 100_000


def bounded(value, limit: int) -> str | None:
    """``value`` as text of at most ``limit`` characters; a longer one keeps its start, its length
    and a digest of the whole (recognisable, not stored)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= limit:
        return text
    tail = f"...({len(text)} chars, sha256 {hashlib.sha256(text.encode('utf-8', 'replace')).hexdigest()[:16]})"
    return text[:max(0, limit - len(tail))] + tail


def audit(*, caller_arn: str, role: str | None, partner_id: str | None, journey: str, customer_ids: list[str],
          overrides: dict, per_recipient_overrides: int, outcome: str, reason: str | None = None,
          enrollment_id: str | None = None) -> None:
    """One record per request, accepted or refused: who, whom, which journey, which overrides."""
    now = clock.now_iso()
    digest = hashlib.sha256("\n".join(str(c) for c in customer_ids).encode("utf-8")).hexdigest()
    ref = enrollment_id or digest[:20]
    enrollments.add_audit(
        now,
        ref,
        enrollment_id=enrollment_id,
        caller_arn=bounded(caller_arn, AUDIT_ARN_CHARS),
        role=bounded(role, AUDIT_FIELD_CHARS),
        partner_id=bounded(partner_id, AUDIT_FIELD_CHARS),
        journey=bounded(journey, AUDIT_FIELD_CHARS),
        total=len(customer_ids),
        customers_sample=[bounded(c, AUDIT_FIELD_CHARS) for c in customer_ids[:AUDIT_SAMPLE]],
        customers_sha256=digest,
        overrides=bounded(json.dumps(overrides, sort_keys=True), AUDIT_OVERRIDES_CHARS),
        per_recipient_overrides=per_recipient_overrides,
        outcome=outcome,
        reason=bounded(reason, AUDIT_REASON_CHARS),
    )
