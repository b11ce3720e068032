"""Distributed-marketing enrolment requests, their per-customer items and audit."""

from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from polku.data.base import PolkuModel


class EnrollmentModel(PolkuModel):
    settings_field = "enrollments_table"

    class Meta:
        table_name = "set-from-settings"

    pk = UnicodeAttribute(hash_key=True)  # "enr#<id>"
    sk = UnicodeAttribute(range_key=True)  # "meta" | "cust#<customer_id>" | "audit#<ts>"
