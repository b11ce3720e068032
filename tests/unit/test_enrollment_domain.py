"""Pure enrolment rules: request validation, roles, chunking, deterministic ids."""

from __future__ import annotations

import json

import pytest

from polku.enrollment.chunks import chunk_message, plan_chunks
from polku.enrollment.deterministic_ids import enrollment_id, execution_name, request_hash
from polku.enrollment.errors import Forbidden, InvalidEnrollment
from polku.enrollment.request import MAX_CUSTOMERS, overrides_for, parse_request
from polku.enrollment.roles import Caller, JourneyPolicy, check_customers, check_journey, choose_role, principal_arn

EDITABLE = frozenset({"personal_note"})


def test_request_dedupes_and_keeps_per_recipient_overrides():
    req = parse_request("nurture", {"customers": ["a", {"customer_id": "b", "overrides": {"personal_note": "hi"}}, "a"],
                                    "overrides": {"personal_note": "all"}}, EDITABLE)
    assert req.customer_ids == ["a", "b"] and req.duplicates_ignored == 1
    assert overrides_for(req.overrides, req.customers[0]) == {"personal_note": "all"}
    assert overrides_for(req.overrides, req.customers[1]) == {"personal_note": "hi"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"customers": []}, "customers"),
        ({"customers": "a,b"}, "customers"),
        ({"customers": ["a"], "overrides": {"subject": "x"}}, "overrides.subject"),
        ({"customers": ["a", {"customer_id": "b", "overrides": {"footer": "x"}}]}, "customers[1].overrides.footer"),
        ({"customers": ["a", {"customer_id": "b", "overrides": {"personal_note": 3}}]}, "customers[1].overrides.personal_note"),
        ({"customers": ["a"], "overrides": {"personal_note": "x" * 2001}}, "overrides.personal_note"),
        ({"customers": ["ok", "bad id"]}, "customers[1]"),
        ({"customers": ["a"], "segment": "all"}, "segment"),
        ({"customers": [f"c{i}" for i in range(MAX_CUSTOMERS + 1)]}, "customers"),
        ([], "body"),
    ],
)
def test_bad_requests_name_the_field(body, field):
    with pytest.raises(InvalidEnrollment) as err:
        parse_request("nurture", body, EDITABLE)
    assert err.value.field == field


def test_roles():
    sales = Caller("arn:aws:iam::1:user/s", frozenset({"sales"}))
    assert choose_role(sales, None) == "sales"
    with pytest.raises(Forbidden):
        choose_role(sales, "marketing")
    with pytest.raises(InvalidEnrollment):
        choose_role(sales, "ceo")
    policy = JourneyPolicy("welcome", frozenset({"marketing"}))
    check_journey("marketing", policy)
    with pytest.raises(Forbidden):
        check_journey("sales", policy)
    partner = Caller("arn:p", frozenset({"partner"}), "acme")
    check_customers("partner", partner, ["a", "b"], {"a", "b"})
    with pytest.raises(Forbidden) as err:
        check_customers("partner", partner, ["a", "z"], {"a"})
    assert err.value.field == "customers[1]"
    assert principal_arn("arn:aws:sts::123:assumed-role/polku-sales/anna") == "arn:aws:iam::123:role/polku-sales"
    assert principal_arn("arn:aws:iam::123:user/bob") == "arn:aws:iam::123:user/bob"


def test_chunks_respect_count_and_size():
    customers = [{"customer_id": f"c{i}"} for i in range(1201)]
    chunks = plan_chunks(customers, max_customers=500)
    assert [len(c) for c in chunks] == [500, 500, 201]
    big = [{"customer_id": f"c{i}", "overrides": {"personal_note": "x" * 1900}} for i in range(500)]
    sized = plan_chunks(big, max_customers=500, max_bytes=200_000)
    assert sum(len(c) for c in sized) == 500 and len(sized) > 1
    meta = {"enrollment_id": "e", "journey": "nurture", "role": "sales", "caller_arn": "arn", "overrides": {},
            "state_machine": "nurture", "split": {"A": 1.0}}
    assert all(len(json.dumps(chunk_message(meta, n, c))) < 256 * 1024 for n, c in enumerate(sized))


def test_ids_are_deterministic():
    assert enrollment_id("arn", "nurture", "k") == enrollment_id("arn", "nurture", "k")
    assert enrollment_id("arn", "nurture", "k") != enrollment_id("arn2", "nurture", "k")
    name = execution_name("0123456789abcdef0123", "customer@example.com")
    assert name == execution_name("0123456789abcdef0123", "customer@example.com")
    assert len(name) <= 80 and all(ch.isalnum() or ch == "-" for ch in name)
    a = request_hash("j", "r", [{"customer_id": "a"}, {"customer_id": "b"}], {})
    assert a == request_hash("j", "r", [{"customer_id": "b"}, {"customer_id": "a"}], {})
