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

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from polku.data.base import PolkuModel


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
