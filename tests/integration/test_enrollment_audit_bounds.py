"""Enrolment refusals are audited with bounded fields, never a 500 (issue #21, 6).

A signed call may carry anything in ``role``; the refusal's audit item must still fit in
DynamoDB's 400 KB item limit (the twin's moto checks it as AWS does), keep what the caller sent
recognisable (a prefix, the length and a digest) and answer the caller with the refusal."""

from __future__ import annotations

import uuid

import pytest
from botocore.credentials import Credentials

from polku import clock
from polku.data import enrollments
from polku.enrollment import store
from polku.enrollment.signed_client import EnrollmentClient

pytestmark = pytest.mark.twin


@pytest.fixture
def sales(twin):
    name = uuid.uuid4().hex[:10]
    arn = f"arn:aws:iam::123456789012:user/sales-{name}"
    key, secret = f"AK{name.upper()}", f"secret-{name}"
    twin.api.add_principal(key, secret, arn)
    store.grant(arn, ["sales"])
    return EnrollmentClient(twin.api_url, Credentials(key, secret), twin.region), arn


def _refusals(arn):
    return [a for a in enrollments.audit_records(clock.now_iso()[:10]) if a.caller_arn == arn and a.outcome == "refused"]


def test_a_250_kb_role_is_refused_and_audited_with_a_bounded_role(sales):
    client, arn = sales
    role = "x" * 250_000
    resp = client._call("POST", "/v1/journeys/nurture/enrollments",
                        {"customers": [f"c-{uuid.uuid4().hex[:8]}" for _ in range(3)], "role": role})
    assert 400 <= resp.status < 500, (resp.status, str(resp.body)[:300])
    [audit] = _refusals(arn)
    assert len(audit.role) <= store.AUDIT_FIELD_CHARS and audit.role.startswith("xxxx")
    assert "250000 chars" in audit.role
    assert len(audit.reason or "") <= store.AUDIT_REASON_CHARS


def test_bounded_keeps_short_text_and_marks_what_it_cut():
    assert store.bounded("sales", 64) == "sales"
    assert store.bounded(None, 64) is None
    cut = store.bounded("a" * 1000, 64)
    assert len(cut) <= 64 and cut.startswith("aaa") and "1000 chars" in cut
    as_text = store.bounded({"nested": ["y" * 1000] * 300}, 256)  # what a caller sent, whatever its type
    assert isinstance(as_text, str) and len(as_text) <= 256 and as_text.startswith('{"nested"')
