"""Distributed-marketing enrolment: requests, their per-customer items, audit,
caller roles and partner links — one table, told apart by key prefix.

Item shapes (``pk`` / ``sk``):

* ``enr#<id>`` / ``meta`` — one enrolment request: who (``caller_arn``, ``role``,
  ``partner_id``), which journey, how many customers and chunks, the for-all
  ``overrides`` (JSON), ``request_hash`` (a retry must carry the same body).
* ``enr#<id>`` / ``chunk#<nnnnn>`` — the outcome of one processed chunk (counts by
  status); overwritten when a chunk is retried, so progress never double counts.
* ``enr#<id>`` / ``cust#<customer_id>`` — whom: one customer of the request, its
  ``status`` (started | already_in_journey | unknown_customer | unreachable | failed), deterministic ``execution_name``
  and the ``overrides`` (JSON) that customer's journey received.
* ``audit#<yyyy-mm-dd>`` / ``<iso time>#<id>`` — one audit record per request,
  accepted or refused: who, role, journey, how many and which customers
  (``customers_sample`` + ``customers_sha256``), overrides, outcome and reason.
* ``principal#<arn>`` / ``principal`` — which roles an IAM caller may act in, and
  its ``partner_id`` when it is a partner.
* ``partner#<partner_id>`` / ``cust#<customer_id>`` — the customers a partner may enrol.
"""

from __future__ import annotations

import json
from typing import Iterator

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from polku import clock
from polku.data import base
from polku.data.base import PolkuModel, get_or_none, put_once


class EnrollmentModel(PolkuModel):
    settings_field = "enrollments_table"

    class Meta:
        table_name = "set-from-settings"

    pk = UnicodeAttribute(hash_key=True)  # "enr#<id>" | "audit#<date>" | "principal#<arn>" | "partner#<id>"
    sk = UnicodeAttribute(range_key=True)  # "meta" | "chunk#<n>" | "cust#<customer_id>" | "<ts>#<id>" | "principal"
    kind = UnicodeAttribute(null=True)  # meta | chunk | customer | audit | principal | partner_link
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)
    # request (meta) and audit
    enrollment_id = UnicodeAttribute(null=True)
    journey = UnicodeAttribute(null=True)
    caller_arn = UnicodeAttribute(null=True)
    role = UnicodeAttribute(null=True)
    partner_id = UnicodeAttribute(null=True)
    total = NumberAttribute(null=True)
    chunks = NumberAttribute(null=True)
    overrides = UnicodeAttribute(null=True)  # JSON {block: text}
    per_recipient_overrides = NumberAttribute(null=True)
    properties = UnicodeAttribute(null=True)  # JSON {name: value}: the runs' trigger properties
    request_hash = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute(null=True)  # audit: accepted | retried | refused
    reason = UnicodeAttribute(null=True)
    customers_sample = ListAttribute(of=UnicodeAttribute, null=True)
    customers_sha256 = UnicodeAttribute(null=True)
    # chunk
    chunk = NumberAttribute(null=True)
    size = NumberAttribute(null=True)
    started = NumberAttribute(null=True)
    already_in_journey = NumberAttribute(null=True)
    unknown_customer = NumberAttribute(null=True)
    unreachable = NumberAttribute(null=True)  # no consented channel reaches them (journey requires_reachable)
    failed = NumberAttribute(null=True)
    # customer
    customer_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    execution_name = UnicodeAttribute(null=True)
    execution_arn = UnicodeAttribute(null=True)
    # principal
    roles = ListAttribute(of=UnicodeAttribute, null=True)


# -- the table's reads and writes (polku.enrollment decides what they mean) --------------------

def put_principal(arn: str, roles: list[str], partner_id: str | None, created_at: str) -> None:
    """Write (or replace) which roles the IAM identity ``arn`` may enrol in."""
    EnrollmentModel(f"principal#{arn}", "principal", kind="principal", roles=roles, partner_id=partner_id,
                    created_at=created_at).save()


def principal(arn: str) -> EnrollmentModel | None:
    """The principal item of ``arn`` (``roles``, ``partner_id``), read consistently, or None."""
    return get_or_none(EnrollmentModel, f"principal#{arn}", "principal", consistent_read=True)


def link_partner_customers(partner_id: str, customer_ids: list[str]) -> None:
    """Let the partner enrol these customers (batch writes; a link written again is replaced)."""
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


def create_request(enrollment_id: str, **attributes) -> bool:
    """Write the request item (``meta``) only if the request is new; False when one with this id
    exists (a retry; it is kept)."""
    item = EnrollmentModel(f"enr#{enrollment_id}", "meta", kind="meta", enrollment_id=enrollment_id, **attributes)
    return put_once(item, EnrollmentModel.pk.does_not_exist())


def request(enrollment_id: str) -> EnrollmentModel | None:
    """The request item (``meta``), read consistently, or None."""
    return get_or_none(EnrollmentModel, f"enr#{enrollment_id}", "meta", consistent_read=True)


def chunk_results(enrollment_id: str) -> list[EnrollmentModel]:
    """The outcome items of the request's processed chunks, in chunk order, read consistently."""
    return list(EnrollmentModel.query(f"enr#{enrollment_id}", EnrollmentModel.sk.startswith("chunk#"),
                                      consistent_read=True))


def customer_items(enrollment_id: str, status: str | None = None, limit: int | None = None) -> list[EnrollmentModel]:
    """The request's per-customer items (those with ``status``, when given; at most ``limit``), read consistently."""
    items = []
    for item in EnrollmentModel.query(f"enr#{enrollment_id}", EnrollmentModel.sk.startswith("cust#"),
                                      consistent_read=True):
        if status is None or item.status == status:
            items.append(item)
            if limit is not None and len(items) >= limit:
                break
    return items


def existing_customers(enrollment_id: str, customer_ids: list[str]) -> dict[str, EnrollmentModel]:
    """The request's per-customer items of those of ``customer_ids`` that have one, by customer id."""
    keys = [(f"enr#{enrollment_id}", f"cust#{cid}") for cid in customer_ids]
    return {item.customer_id: item for item in EnrollmentModel.batch_get(keys, consistent_read=True)}


def save_customer_outcomes(enrollment_id: str, outcomes: list[dict]) -> None:
    """Write (or replace) the per-customer item of each outcome, in batches."""
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
    """Write (or replace, when a chunk is retried) the outcome counts of one chunk."""
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


def add_audit(at: str, ref: str, **attributes) -> None:
    """Write one audit record, filed under the day of ``at``."""
    EnrollmentModel(f"audit#{at[:10]}", f"{at}#{ref}", kind="audit", created_at=at, **attributes).save()


def audit_records(day: str) -> list[EnrollmentModel]:
    """The audit records of ``day`` (``yyyy-mm-dd``), in time order."""
    return list(EnrollmentModel.query(f"audit#{day}"))


def everything() -> Iterator[EnrollmentModel]:
    """Every item of the table, page by page (a scan, eventually consistent)."""
    yield from EnrollmentModel.scan()


def replace(item: EnrollmentModel) -> None:
    """Write ``item`` as it is now, replacing the stored one (e.g. after rewriting its text)."""
    item.save()


def delete_all(found: list[EnrollmentModel]) -> int:
    """Delete these items in batches; how many."""
    return base.delete_all(EnrollmentModel, found)
