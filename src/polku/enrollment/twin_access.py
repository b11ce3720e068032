"""For the demo and local scripts: a signed enrolment client acting as an IAM principal of the
local twin (keys registered with the twin's API gateway, roles granted in EnrollmentsTable)."""

from __future__ import annotations

import hashlib

from botocore.credentials import Credentials

from polku.enrollment import store
from polku.enrollment.signed_client import EnrollmentClient


def principal_client(twin, arn: str, roles: list[str], partner_id: str | None = None) -> EnrollmentClient:
    """E.g. ``principal_client(twin, "arn:aws:iam::123456789012:user/sales-anna", ["sales"])``."""
    digest = hashlib.sha256(arn.encode()).hexdigest()
    key, secret = "AKDEMO" + digest[:14].upper(), digest[14:54]
    twin.api.add_principal(key, secret, arn)
    store.grant(arn, roles, partner_id)
    return EnrollmentClient(twin.api_url, Credentials(key, secret), twin.region)


def enroll_and_wait(client: EnrollmentClient, journey: str, customers: list, role: str | None = None,
                    overrides: dict | None = None) -> dict:
    """Enrol and return the progress body (on the twin the chunks are processed during the POST)."""
    resp = client.enroll(journey, customers, role=role, overrides=overrides)
    if not resp.ok:
        raise RuntimeError(f"enrolment refused ({resp.status}): {resp.body}")
    progress = client.progress(resp.body["enrollment_id"])
    if not progress.ok:
        raise RuntimeError(f"enrolment progress unavailable ({progress.status}): {progress.body}")
    return progress.body
