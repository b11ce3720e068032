"""Enrolment use cases: submit a request, process one chunk, report progress.

The Chalice routes and the SQS worker call these and nothing else.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

from polku import clock
from polku.data import enrollments
from polku.enrollment import chunk_queue, journey_entry, store
from polku.enrollment.chunks import chunk_message, plan_chunks
from polku.enrollment.deterministic_ids import enrollment_id as make_enrollment_id
from polku.enrollment.deterministic_ids import execution_name, request_hash
from polku.enrollment.errors import Conflict, EnrollmentError, Forbidden, NotFound, Unauthenticated
from polku.enrollment.journey_policies import journey_for
from polku.enrollment.request import overrides_for, parse_request
from polku.enrollment.roles import check_customers, check_journey, choose_role
from polku.messaging import reachability
from polku.observability import logger

PROBLEMS_SHOWN = 100
PARALLEL_STARTS = 8


def _caller(caller_arn: str | None):
    if not caller_arn:
        raise Unauthenticated("authorization", "a SigV4-signed request by an IAM principal is required")
    caller = store.lookup_caller(caller_arn)
    if caller is None or not caller.roles:
        raise Forbidden("authorization", f"{caller_arn} has no enrolment role; ask marketing to grant one")
    return caller


def submit(caller_arn: str | None, journey: str, body, idempotency_key: str | None = None) -> tuple[int, dict]:
    """Validate, authorise, audit and queue an enrolment. Returns (HTTP status, body).

    ``journey`` is the name in the URL (state machine or registry name)."""
    caller = _caller(caller_arn)
    target = None
    role = None
    customer_ids: list[str] = []
    overrides: dict = {}
    per_recipient = 0
    try:
        target = journey_for(journey)
        journey, policy = target.name, target.policy
        request = parse_request(journey, body, policy.editable_blocks, target.requires)
        customer_ids, overrides, per_recipient = request.customer_ids, request.overrides, request.per_recipient_overrides
        role = choose_role(caller, request.role)
        check_journey(role, policy, caller)
        if role == "partner":
            linked = enrollments.partner_customers(caller.partner_id) if caller.partner_id else set()
            check_customers(role, caller, customer_ids, linked)
    except EnrollmentError as exc:
        if isinstance(exc, (Forbidden, NotFound)) or customer_ids:
            store.audit(caller_arn=caller.arn, role=role or (body.get("role") if isinstance(body, dict) else None),
                        partner_id=caller.partner_id, journey=journey, customer_ids=customer_ids,
                        overrides=overrides, per_recipient_overrides=per_recipient, outcome="refused",
                        reason=f"{exc.field}: {exc.reason}")
        logger.info("enrolment refused", extra={"caller": caller.arn, "journey": journey, "field": exc.field})
        raise

    fingerprint = request_hash(
        journey, role, [{k: v for k, v in c.items() if k != "index"} for c in request.customers], request.overrides,
        request.properties,
    )
    key = idempotency_key or fingerprint
    enrollment = make_enrollment_id(caller.arn, journey, key)
    chunks = plan_chunks(request.customers)
    stored = store.StoredRequest(
        enrollment_id=enrollment, journey=journey, role=role, caller_arn=caller.arn, partner_id=caller.partner_id,
        total=len(request.customers), chunks=len(chunks), overrides=request.overrides,
        request_hash=fingerprint, created_at=clock.now_iso(), properties=request.properties,
    )
    created = store.create_request(stored, request.per_recipient_overrides)
    if not created:
        previous = store.get_request(enrollment)
        if previous is not None and previous.request_hash != fingerprint:
            raise Conflict("Idempotency-Key", "already used for a different enrolment request")
        stored = previous or stored
    store.audit(caller_arn=caller.arn, role=role, partner_id=caller.partner_id, journey=journey,
                customer_ids=customer_ids, overrides=request.overrides, per_recipient_overrides=per_recipient,
                outcome="accepted" if created else "retried", enrollment_id=enrollment)
    # A retry re-sends the chunks not finished yet; the worker enrols each customer once anyway.
    done = {int(c.chunk) for c in enrollments.chunk_results(enrollment) if not c.failed}
    meta = {**asdict(stored), "state_machine": target.state_machine, "split": target.split,
            "requires_reachable": target.requires_reachable}
    messages = [chunk_message(meta, n, chunk) for n, chunk in enumerate(chunks, start=1) if n not in done]
    chunk_queue.send_chunks(messages)
    logger.info("enrolment queued", extra={"enrollment_id": enrollment, "journey": journey, "role": role,
                                            "customers": stored.total, "chunks": len(messages), "retry": not created})
    return (202 if created else 200), {
        "enrollment_id": enrollment,
        "journey": journey,
        "role": role,
        "customers": stored.total,
        "duplicates_ignored": request.duplicates_ignored,
        "chunks": stored.chunks,
        "retried": not created,
        "status_url": f"/v1/enrollments/{enrollment}",
    }


OUTCOMES = ("started", "already_in_journey", "unknown_customer", "unreachable", "failed")
FINAL = {"started", "already_in_journey", "unknown_customer", "unreachable"}  # a retried chunk leaves these alone


class ChunkIncomplete(Exception):
    """Some customers of a chunk could not be started; SQS retries the chunk (the rest stay done)."""


def process_chunk(message: dict) -> dict:
    """Enrol one chunk: each customer once (run lock + deterministic execution names; outcomes stored).
    Returns the chunk's counts per outcome and ``unreachable_now``: those refused by this call."""
    enrollment = message["enrollment_id"]
    journey = message["journey"]
    customers = message["customers"]
    ids = [c["customer_id"] for c in customers]
    existing = enrollments.existing_customers(enrollment, ids)
    done_before = {cid: item.status for cid, item in existing.items() if item.status in FINAL}
    pending = [c for c in customers if c["customer_id"] not in done_before]
    profiles = store.customer_profiles([c["customer_id"] for c in pending], reachability.PROFILE_ATTRIBUTES)
    # A chunk queued before the flag existed is checked too (the journey's default).
    only_reachable = message.get("requires_reachable", True) is not False
    counts = dict.fromkeys(OUTCOMES, 0)
    for status in done_before.values():
        counts[status] += 1

    def enrol_one(c: dict) -> dict:
        cid = c["customer_id"]
        ov = overrides_for(message.get("overrides") or {}, c)
        name = execution_name(enrollment, cid)
        outcome = {"customer_id": cid, "execution_name": name, "overrides": ov}
        if cid not in profiles:
            outcome.update(status="unknown_customer", reason="no profile", execution_name=None)
            return outcome
        if only_reachable:
            reach = reachability.decide(profiles[cid], cid)
            if not reach.ok:
                outcome.update(status="unreachable", execution_name=None,
                               reason=f"no consented channel reaches them: {reach.reason}"[:300])
                return outcome
        try:
            status, arn = journey_entry.enter(
                journey=journey, state_machine=message["state_machine"], split=message.get("split") or {},
                customer_id=cid, name=name, enrollment_id=enrollment, by=message["by"], role=message["role"],
                overrides=ov, properties=message.get("properties") or {},
            )
            outcome.update(status=status, execution_arn=arn)
            if status == "already_in_journey":
                outcome["reason"] = f"already in a run of {journey}"
        except Exception as exc:  # noqa: BLE001 - recorded per customer, chunk retried
            outcome.update(status="failed", reason=f"{type(exc).__name__}: {exc}"[:300])
        return outcome

    # Customers are independent: start them a few at a time (Step Functions' StartExecution
    # bucket is far larger than this; each customer is still entered once).
    with ThreadPoolExecutor(max_workers=PARALLEL_STARTS) as pool:
        outcomes = list(pool.map(enrol_one, pending))
    for o in outcomes:
        counts[o["status"]] += 1
    errors = [o["customer_id"] for o in outcomes if o["status"] == "failed"]
    enrollments.save_customer_outcomes(enrollment, outcomes)
    enrollments.save_chunk_result(enrollment, int(message["chunk"]), len(customers), counts)
    if errors:
        raise ChunkIncomplete(f"enrolment {enrollment} chunk {message['chunk']}: {len(errors)} customers not started")
    # (refused by this delivery of the chunk, not by an earlier one: what the worker's metric counts)
    return counts | {"unreachable_now": sum(1 for o in outcomes if o["status"] == "unreachable")}


def progress(caller_arn: str | None, enrollment_id: str) -> dict:
    caller = _caller(caller_arn)
    req = store.get_request(enrollment_id)
    # Only the requester and marketing may see an enrolment; others get 404 (no probing).
    if req is None or (req.caller_arn != caller.arn and "marketing" not in caller.roles):
        raise NotFound("enrollment_id", f"no enrolment {enrollment_id!r} visible to {caller.arn}")
    results = enrollments.chunk_results(enrollment_id)
    counts = dict.fromkeys(OUTCOMES, 0)
    for r in results:
        for k in counts:
            counts[k] += int(getattr(r, k) or 0)
    processed = sum(counts.values())
    finished_chunks = sum(1 for r in results if not r.failed)
    status = "completed" if finished_chunks >= req.chunks else ("processing" if results else "queued")
    problems = []
    if counts["started"] < processed:
        for item in enrollments.customer_items(enrollment_id):
            if item.status != "started":
                problems.append({"customer_id": item.customer_id, "status": item.status, "reason": item.reason})
                if len(problems) >= PROBLEMS_SHOWN:
                    break
    return {
        "enrollment_id": enrollment_id,
        "journey": req.journey,
        "role": req.role,
        "by": req.caller_arn,
        "created_at": req.created_at,
        "status": status,
        "customers": req.total,
        "processed": processed,
        "chunks": req.chunks,
        "chunks_done": finished_chunks,
        "counts": counts,
        "overrides": req.overrides,
        "problems": problems,
    }
