"""The conditional writes of the enrolments, suppressions and rate-limits tables
(polku.data.enrollments, polku.data.suppressions, polku.data.rate_limits) behave the same on
DynamoDB Local and on the twin: a request stored once, the first reason of an opt-out kept, a
counter that stops at its limit, a sending pause set once."""

from __future__ import annotations

import uuid

import boto3
import pytest

from polku.data import enrollments, rate_limits, suppressions
from polku.data.base import bind_models
from polku.settings import Settings, get_settings


@pytest.fixture(scope="module")
def contract_tables(dynamodb_local, template):
    from polku.testing.dynamodb_local import create_tables_from_template

    client = boto3.client(
        "dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="eu-west-1",
        aws_access_key_id="contract", aws_secret_access_key="contract",
    )
    return create_tables_from_template(client, template, stage="contract-small")


@pytest.fixture(params=["dynamodb_local", "twin"])
def backend(request, contract_tables, dynamodb_local, twin):
    if request.param == "dynamodb_local":
        bind_models(Settings(enrollments_table=contract_tables["EnrollmentsTable"],
                             suppressions_table=contract_tables["SuppressionsTable"],
                             rate_limits_table=contract_tables["RateLimitsTable"]), host=dynamodb_local.endpoint_url)
    else:
        bind_models(get_settings(), host=twin.endpoint_url)
    yield request.param
    bind_models(get_settings(), host=None)


def test_a_request_is_stored_once(backend):
    eid = f"enr-{uuid.uuid4().hex}"
    assert enrollments.create_request(eid, journey="welcome", total=2, chunks=1, request_hash="h1") is True
    assert enrollments.create_request(eid, journey="other", total=9, chunks=3, request_hash="h2") is False
    stored = enrollments.request(eid)
    assert (stored.journey, stored.total, stored.request_hash, stored.kind) == ("welcome", 2, "h1", "meta")
    assert enrollments.request(f"enr-{uuid.uuid4().hex}") is None


def test_the_first_reason_of_an_opt_out_is_kept(backend):
    address = f"h1:{uuid.uuid4().hex}"
    assert suppressions.add_once(address, reason="bounce", created_at="t1", message_id="m1") is True
    assert suppressions.add_once(address, reason="complaint", created_at="t2") is False
    row = suppressions.find(address)
    assert (row.reason, row.created_at, row.message_id) == ("bounce", "t1", "m1")
    suppressions.forget_source(row)
    row = suppressions.find(address)
    assert (row.reason, row.message_id, row.customer_id) == ("bounce", None, None)
    suppressions.delete(row)
    assert suppressions.find(address) is None


def test_a_counter_stops_at_its_limit(backend):
    key = f"confirm#email#{uuid.uuid4().hex}@example.org#2026-12-04"
    assert [rate_limits.take(key, 2, 2_000_000_000) for _ in range(3)] == [True, True, False]
    [counter] = rate_limits.of_keys([key, f"{key}-none"])
    assert (counter.count, counter.expires_at) == (2, 2_000_000_000)  # the refused take counted nothing
    assert rate_limits.delete_all([counter]) == 1 and rate_limits.of_keys([key]) == []


def test_the_sending_pause_is_set_once(backend):
    rate_limits.lift_sending_pause()
    try:
        assert rate_limits.pause_sending("bounce rate 6%", "2026-12-04T10:00:00Z") is True
        assert rate_limits.pause_sending("complaint rate 1%", "2026-12-04T11:00:00Z") is False
        pause = rate_limits.sending_pause()
        assert (pause.reason, pause.since) == ("bounce rate 6%", "2026-12-04T10:00:00Z")
    finally:
        assert rate_limits.lift_sending_pause() is True
    assert rate_limits.sending_pause() is None and rate_limits.lift_sending_pause() is False
