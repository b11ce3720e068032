"""Issue #20 points 6 and 7, issue #21 point 4 for enrolment, on the twin (SigV4 through the
local API gateway, real Chalice app, real registry)."""

from __future__ import annotations

import uuid

import pytest
from botocore.credentials import Credentials

from polku.data.base import bind_models
from polku.data.profiles import ProfileModel
from polku.data import enrollments
from polku.enrollment import store
from polku.enrollment.signed_client import EnrollmentClient
from polku.settings import get_settings

pytestmark = pytest.mark.twin


def _uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def api(twin):
    get_settings.cache_clear()
    bind_models(get_settings(), host=twin.endpoint_url)

    def as_principal(roles: list[str], partner_id: str | None = None, region: str | None = None) -> EnrollmentClient:
        name = _uid()
        arn = f"arn:aws:iam::123456789012:user/{'-'.join(roles)}-{name}"
        key, secret = f"AK{name.upper()}", f"secret-{name}"
        twin.api.add_principal(key, secret, arn)
        store.grant(arn, roles, partner_id)
        return EnrollmentClient(twin.api_url, Credentials(key, secret), region or twin.region)

    return as_principal


def _customers(n: int) -> list[str]:
    ids = [f"cust-{_uid()}" for _ in range(n)]
    with ProfileModel.batch_write() as batch:
        for cid in ids:
            batch.save(ProfileModel(cid, traits={"email": f"{cid}@example.com"}))
    return ids


def test_a_partner_cannot_enrol_into_a_journey_that_does_not_list_partners(api):
    from polku.journeys import registry

    assert registry.current().get("nurture").enrollable_by == ("sales",)
    ours = _customers(1)
    partner_id = f"partner-{_uid()}"
    enrollments.link_partner_customers(partner_id, ours)
    partner = api(["partner"], partner_id=partner_id)
    refused = partner.enroll("nurture", ours, role="partner")
    assert refused.status == 403, refused.body
    assert refused.body["error"]["field"] == "journey"
    assert "partner" in refused.body["error"]["reason"]
    # a journey that lists partner admits the partner's own customers
    accepted = partner.enroll("event-invitation", ours, role="partner",
                             properties={"event_name": "Spring fair", "event_date": "2026-04-18"})
    assert accepted.status == 202, accepted.body


def test_sigv4_scope_must_name_the_apis_region_and_service(twin, api):
    ids = _customers(1)
    right = api(["marketing"])
    assert right.enroll("nurture", ids).status == 202
    for region in ("us-east-1", "eu-north-1"):
        wrong_region = EnrollmentClient(twin.api_url, right.credentials, region)
        resp = wrong_region.enroll("nurture", ids)
        assert resp.status == 403, (region, resp.body)
        assert wrong_region.progress("abc").status == 403

    class OtherService(EnrollmentClient):
        def _call(self, method, path, payload=None, headers=None):
            import botocore.auth

            original = botocore.auth.SigV4Auth.__init__

            def as_lambda(signer, credentials, service_name, region_name, *args, **kwargs):
                original(signer, credentials, "lambda", region_name, *args, **kwargs)

            botocore.auth.SigV4Auth.__init__ = as_lambda
            try:
                return super()._call(method, path, payload, headers)
            finally:
                botocore.auth.SigV4Auth.__init__ = original

    assert OtherService(twin.api_url, right.credentials, twin.region).enroll("nurture", ids).status == 403


@pytest.mark.parametrize("customer, why", [("anon:someone", "anon:"), ("c1\n", "may contain only"),
                                           ("", "empty")])
def test_enrolment_customer_ids_use_the_tracking_rule(api, customer, why):
    marketing = api(["marketing"])
    resp = marketing.enroll("nurture", [customer])
    assert resp.status == 400, resp.body
    assert resp.body["error"]["field"] == "customers[0]"
    assert why in resp.body["error"]["reason"]
