"""EnrollmentsTable adapter: principals, partner links, requests, chunks, customers, audit.

Item shapes are documented in :mod:`polku.data.enrollments`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pynamodb.exceptions import PutError

from polku import clock
from polku.data.enrollments import EnrollmentModel
from polku.data.profiles import ProfileModel
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
    EnrollmentModel(
        f"principal#{principal_arn(arn)}",
        "principal",
        kind="principal",
        roles=sorted(set(roles)),
        partner_id=partner_id,
        created_at=clock.now_iso(),
    ).save()


def lookup_caller(caller_arn: str) -> Caller | None:
    arn = principal_arn(caller_arn)
    try:
        item = EnrollmentModel.get(f"principal#{arn}", "principal", consistent_read=True)
    except EnrollmentModel.DoesNotExist:
        return None
    return Caller(arn=arn, roles=frozenset(item.roles or []), partner_id=item.partner_id)


def link_partner_customers(partner_id: str, customer_ids: list[str]) -> None:
    now = clock.now_iso()
    with EnrollmentModel.batch_write() as batch:
        for cid in customer_ids:
            batch.save(EnrollmentModel(f"partner#{partner_id}", f"cust#{cid}", kind="partner_link",
                                       partner_id=partner_id, customer_id=cid, created_at=now))


def partner_customers(partner_id: str) -> set[str]:
    """Every customer linked to the partner (one query; partners have far fewer than whole bases)."""
    return {
        item.customer_id
        for item in EnrollmentModel.query(f"partner#{partner_id}", EnrollmentModel.sk.startswith("cust#"))
    }


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


def _meta_to_stored(item: EnrollmentModel) -> StoredRequest:
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
    item = EnrollmentModel(
        f"enr#{req.enrollment_id}",
        "meta",
        kind="meta",
        enrollment_id=req.enrollment_id,
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
    try:
        item.save(condition=EnrollmentModel.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def get_request(enrollment_id: str) -> StoredRequest | None:
    try:
        return _meta_to_stored(EnrollmentModel.get(f"enr#{enrollment_id}", "meta", consistent_read=True))
    except EnrollmentModel.DoesNotExist:
        return None


def chunk_results(enrollment_id: str) -> list[EnrollmentModel]:
    return list(EnrollmentModel.query(f"enr#{enrollment_id}", EnrollmentModel.sk.startswith("chunk#"),
                                      consistent_read=True))


def customer_items(enrollment_id: str, status: str | None = None, limit: int | None = None) -> list[EnrollmentModel]:
    items = []
    for item in EnrollmentModel.query(f"enr#{enrollment_id}", EnrollmentModel.sk.startswith("cust#"),
                                      consistent_read=True):
        if status is None or item.status == status:
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
    return items


# ------------------------------------------------------------------ chunk processing
def existing_customers(enrollment_id: str, customer_ids: list[str]) -> dict[str, EnrollmentModel]:
    keys = [(f"enr#{enrollment_id}", f"cust#{cid}") for cid in customer_ids]
    return {item.customer_id: item for item in EnrollmentModel.batch_get(keys, consistent_read=True)}


def customer_profiles(customer_ids: list[str], attributes: tuple[str, ...]) -> dict[str, dict]:
    """The profiles of those customers that have one (only ``attributes``), as the profile reader
    gives them (:func:`polku.tracking.profile_store.from_model`)."""
    if not customer_ids:
        return {}
    from polku.tracking.profile_store import from_model

    return {p.customer_id: from_model(p) for p in ProfileModel.batch_get(customer_ids, attributes_to_get=list(attributes))}


def save_customer_outcomes(enrollment_id: str, outcomes: list[dict]) -> None:
    now = clock.now_iso()
    with EnrollmentModel.batch_write() as batch:
        for o in outcomes:
            batch.save(EnrollmentModel(
                f"enr#{enrollment_id}",
                f"cust#{o['customer_id']}",
                kind="customer",
                enrollment_id=enrollment_id,
                customer_id=o["customer_id"],
                status=o["status"],
                reason=o.get("reason"),
                execution_name=o.get("execution_name"),
                execution_arn=o.get("execution_arn"),
                overrides=json.dumps(o.get("overrides") or {}, sort_keys=True),
                updated_at=now,
            ))


def save_chunk_result(enrollment_id: str, number: int, size: int, counts: dict[str, int]) -> None:
    EnrollmentModel(
        f"enr#{enrollment_id}",
        f"chunk#{number:05d}",
        kind="chunk",
        enrollment_id=enrollment_id,
        chunk=number,
        size=size,
        started=counts.get("started", 0),
        already_in_journey=counts.get("already_in_journey", 0),
        unknown_customer=counts.get("unknown_customer", 0),
        unreachable=counts.get("unreachable", 0),
        failed=counts.get("failed", 0),
        updated_at=clock.now_iso(),
    ).save()


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
    EnrollmentModel(
        f"audit#{now[:10]}",
        f"{now}#{ref}",
        kind="audit",
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
        created_at=now,
    ).save()


def audit_records(day: str) -> list[EnrollmentModel]:
    return list(EnrollmentModel.query(f"audit#{day}"))
