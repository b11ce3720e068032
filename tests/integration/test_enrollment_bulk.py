"""A 25,000-customer bulk enrolment is split into chunks on the EnrollmentQueue and each
chunk is enrolled by the real worker (twin: SQS -> Lambda runs in-process)."""

from __future__ import annotations

import uuid

import pytest
from botocore.credentials import Credentials

from polku.data.base import bind_models
from polku.data.profiles import ProfileModel
from polku.data import enrollments
from polku.enrollment import store
from polku.enrollment.chunks import CHUNK_CUSTOMERS
from polku.enrollment.signed_client import EnrollmentClient
from polku.settings import get_settings

pytestmark = [pytest.mark.twin, pytest.mark.slow]


def test_25000_customers_processed_in_chunks(twin):
    get_settings.cache_clear()
    bind_models(get_settings(), host=twin.endpoint_url)
    run = uuid.uuid4().hex[:8]
    arn = f"arn:aws:iam::123456789012:user/marketing-bulk-{run}"
    twin.api.add_principal(f"AKBULK{run}", "bulk-secret", arn)
    store.grant(arn, ["marketing"])
    client = EnrollmentClient(twin.api_url, Credentials(f"AKBULK{run}", "bulk-secret"), twin.region)

    ids = [f"bulk-{run}-{i:05d}" for i in range(25_000)]
    # Every 500th customer has a profile (one journey run per chunk) and is reachable by e-mail;
    # the rest are unknown to Polku and are recorded as such without starting anything.
    known = ids[::500]
    with ProfileModel.batch_write() as batch:
        for cid in known:
            batch.save(ProfileModel(cid, traits={"email": f"{cid}@example.com"}, consents={"email": {"granted": True}}))

    resp = client.enroll("win-back", ids)
    assert resp.status == 202, resp.body
    enrollment = resp.body["enrollment_id"]
    assert resp.body["customers"] == 25_000
    assert resp.body["chunks"] == 25_000 // CHUNK_CUSTOMERS == 50

    progress = client.progress(enrollment).body
    assert progress["status"] == "completed", progress
    assert progress["chunks_done"] == 50
    assert progress["counts"] == {"started": len(known), "already_in_journey": 0,
                                  "unknown_customer": 25_000 - len(known), "unreachable": 0, "failed": 0}

    chunks = enrollments.chunk_results(enrollment)
    assert len(chunks) == 50
    assert all(int(c.size) <= CHUNK_CUSTOMERS for c in chunks)
    assert sum(int(c.size) for c in chunks) == 25_000
    items = enrollments.customer_items(enrollment)
    assert len(items) == 25_000 and {i.customer_id for i in items} == set(ids)
    assert {i.customer_id for i in items if i.status == "started"} == set(known)

    # More than 25,000 is refused with the field named.
    too_many = client.enroll("win-back", ids + [f"bulk-{run}-extra"])
    assert too_many.status == 400 and too_many.body["error"]["field"] == "customers"
