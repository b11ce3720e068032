"""Enrolment API on the twin: SigV4 through the local API gateway, real Chalice app,
real SQS fan-out to the real worker, real Step Functions executions."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from botocore.credentials import Credentials

from polku import clock
from polku.data.base import bind_models
from polku.data.enrollments import EnrollmentModel
from polku.data.profiles import ProfileModel
from polku.data import enrollments
from polku.enrollment import store
from polku.enrollment.deterministic_ids import execution_name
from polku.enrollment.signed_client import EnrollmentClient
from polku.settings import get_settings

pytestmark = pytest.mark.twin


def _uid() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def api(twin):
    # Modules imported at collection cached settings before the twin set the environment.
    get_settings.cache_clear()
    bind_models(get_settings(), host=twin.endpoint_url)

    def as_principal(roles: list[str] | None, partner_id: str | None = None) -> EnrollmentClient:
        name = _uid()
        arn = f"arn:aws:iam::123456789012:user/{'-'.join(roles or ['nobody'])}-{name}"
        key, secret = f"AK{name.upper()}", f"secret-{name}"
        twin.api.add_principal(key, secret, arn)
        if roles:
            store.grant(arn, roles, partner_id)
        client = EnrollmentClient(twin.api_url, Credentials(key, secret), twin.region)
        client.arn = arn
        return client

    return as_principal


REACHABLE = {"consents": {"email": {"granted": True}}}  # journeys start only for reachable customers


def _customers(n: int, with_profile: bool = True, consent: bool = True) -> list[str]:
    ids = [f"cust-{_uid()}" for _ in range(n)]
    if with_profile:
        with ProfileModel.batch_write() as batch:
            for cid in ids:
                batch.save(ProfileModel(cid, traits={"email": f"{cid}@example.com"}, **(REACHABLE if consent else {})))
    return ids


def _executions(twin, journey: str, names: set[str]) -> list[dict]:
    sfn = twin.client("stepfunctions")
    arn = twin.outputs["StateMachinePrefix"] + journey
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        found += [e for e in page["executions"] if e["name"] in names]
    return found


def test_unauthenticated_calls_are_refused(twin, api):
    import urllib.request

    req = urllib.request.Request(
        f"{twin.api_url}/v1/journeys/nurture/enrollments", data=b'{"customers": ["c1"]}', method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req)
    assert err.value.code == 403
    # A signature by a key the gateway does not know is refused too.
    stranger = EnrollmentClient(twin.api_url, Credentials("AKUNKNOWN", "nope"), twin.region)
    assert stranger.enroll("nurture", ["c1"]).status == 403
    assert stranger.progress("abc").status == 403
    # A wrongly signed request by a known key is refused.
    known = api(["marketing"])
    forged = EnrollmentClient(twin.api_url, Credentials(known.credentials.access_key, "wrong"), twin.region)
    assert forged.enroll("nurture", ["c1"]).status == 403


def test_authenticated_caller_without_role_is_forbidden(api):
    client = api(None)
    resp = client.enroll("nurture", ["c1"])
    assert resp.status == 403
    assert resp.body["error"]["field"] == "authorization"


def test_sales_enrols_with_intro_and_journeys_start(twin, api):
    sales = api(["sales"])
    ids = _customers(3)
    customers = [ids[0], {"customer_id": ids[1], "overrides": {"intro": "Hi Ann, as promised"}}, ids[2]]
    resp = sales.enroll("nurture", customers, role="sales", overrides={"intro": "Great meeting you"})
    assert resp.status == 202, resp.body
    enrollment = resp.body["enrollment_id"]
    assert resp.body["customers"] == 3 and resp.body["chunks"] == 1

    progress = sales.progress(enrollment)
    assert progress.status == 200, progress.body
    assert progress.body["status"] == "completed"
    assert progress.body["counts"] == {"started": 3, "already_in_journey": 0, "unknown_customer": 0, "unreachable": 0,
                                       "failed": 0}

    names = {execution_name(enrollment, cid) for cid in ids}
    runs = _executions(twin, "nurture", names)
    assert len(runs) == 3
    sfn = twin.client("stepfunctions")
    inputs = {json.loads(sfn.describe_execution(executionArn=r["executionArn"])["input"])["customer_id"]:
              json.loads(sfn.describe_execution(executionArn=r["executionArn"])["input"]) for r in runs}
    assert inputs[ids[1]]["overrides"] == {"intro": "Hi Ann, as promised"}
    assert inputs[ids[0]]["overrides"] == {"intro": "Great meeting you"}
    trigger = inputs[ids[0]]["trigger"]
    assert (trigger["type"], trigger["enrollment_id"], trigger["by"], trigger["role"]) == (
        "enrollment", enrollment, sales.arn, "sales")
    assert inputs[ids[0]]["journey"] == "nurture" and inputs[ids[0]]["variant"]

    # Audit: who, whom, which journey, which overrides.
    meta = EnrollmentModel.get(f"enr#{enrollment}", "meta")
    assert (meta.caller_arn, meta.role, meta.journey) == (sales.arn, "sales", "nurture")
    assert json.loads(meta.overrides) == {"intro": "Great meeting you"}
    whom = {i.customer_id: json.loads(i.overrides) for i in enrollments.customer_items(enrollment)}
    assert whom[ids[1]] == {"intro": "Hi Ann, as promised"} and set(whom) == set(ids)
    audits = [a for a in enrollments.audit_records(meta.created_at[:10]) if a.enrollment_id == enrollment]
    assert audits and audits[0].outcome == "accepted" and set(audits[0].customers_sample) == set(ids)


def test_override_of_non_editable_block_is_refused(api):
    marketing = api(["marketing"])
    ids = _customers(2)
    resp = marketing.enroll("nurture", ids, overrides={"subject": "FREE MONEY"})
    assert resp.status == 400
    assert resp.body["error"]["field"] == "overrides.subject"
    assert "not an editable block" in resp.body["error"]["reason"]
    per = marketing.enroll("nurture", [ids[0], {"customer_id": ids[1], "overrides": {"footer": "x"}}])
    assert per.status == 400 and per.body["error"]["field"] == "customers[1].overrides.footer"


# A month ahead of the run's clock (an invitation to an event already begun sends nothing and ends).
EVENT = {"event_name": "Spring fair", "event_date": (clock.now() + dt.timedelta(days=30)).date().isoformat()}


def test_an_enrolment_gives_what_the_journey_needs(twin, api):
    """event_invitation needs the event (registry enroll_requires): refused without it, naming the
    field; given, every run receives it as its trigger's properties."""
    sales = api(["sales"])
    ids = _customers(1)
    missing = sales.enroll("event-invitation", ids, role="sales", properties={"event_name": "Spring fair"})
    assert missing.status == 400 and missing.body["error"]["field"] == "properties.event_date", missing.body
    bad = sales.enroll("event-invitation", ids, role="sales", properties={**EVENT, "notes": {"nested": 1}})
    assert bad.status == 400 and bad.body["error"]["field"] == "properties.notes"
    ok = sales.enroll("event-invitation", ids, role="sales", properties=EVENT)
    assert ok.status == 202, ok.body
    prog = sales.progress(ok.body["enrollment_id"]).body
    assert prog["counts"]["started"] == 1, prog
    sfn = twin.client("stepfunctions")
    runs = [sfn.describe_execution(executionArn=e["executionArn"]) for e in sfn.list_executions(
        stateMachineArn=twin.outputs["StateMachinePrefix"] + "event-invitation")["executions"]]
    run = next(r for r in runs if json.loads(r["input"])["customer_id"] == ids[0])
    given = json.loads(run["input"])["trigger"]
    assert given["type"] == "enrollment" and given["properties"] == EVENT
    assert run["status"] == "RUNNING"  # the invitation waits for an answer (it did not fail on a missing date)


def test_partner_cannot_enrol_another_partners_customer(api):
    ours, theirs = _customers(2), _customers(1)
    pa, pb = f"partner-{_uid()}", f"partner-{_uid()}"
    enrollments.link_partner_customers(pa, ours)
    enrollments.link_partner_customers(pb, theirs)
    partner = api(["partner"], partner_id=pa)
    refused = partner.enroll("event-invitation", ours + theirs, role="partner", properties=EVENT)
    assert refused.status == 403
    assert refused.body["error"]["field"] == "customers[2]"
    assert theirs[0] in refused.body["error"]["reason"]
    accepted = partner.enroll("event-invitation", ours, role="partner", properties=EVENT)
    assert accepted.status == 202, accepted.body
    assert partner.progress(accepted.body["enrollment_id"]).body["counts"]["started"] == 2


def test_roles_are_limited_to_their_journeys(api):
    sales = api(["sales"])
    ids = _customers(1)
    resp = sales.enroll("abandoned-cart", ids, role="sales")
    assert resp.status == 403 and resp.body["error"]["field"] == "journey"
    resp = sales.enroll("nurture", ids, role="marketing")
    assert resp.status == 403 and resp.body["error"]["field"] == "role"
    assert sales.enroll("no-such-journey", ids).status == 404


def test_retried_bulk_enrolment_enrols_each_customer_once(twin, api):
    marketing = api(["marketing"])
    # Two chunks; one customer in ten has a profile (started), the rest are unknown to Polku
    # (recorded, nothing started) - keeps the twin's Step Functions load small.
    ids = _customers(600, with_profile=False)
    known = ids[::10]
    with ProfileModel.batch_write() as batch:
        for cid in known:
            batch.save(ProfileModel(cid, traits={"email": f"{cid}@example.com"}, **REACHABLE))
    first = marketing.enroll("cross-sell", ids, idempotency_key="campaign-42")
    assert first.status == 202, first.body
    assert first.body["chunks"] == 2
    enrollment = first.body["enrollment_id"]
    # The client retries (say its connection dropped); a chunk is also delivered twice by SQS.
    again = marketing.enroll("cross-sell", ids, idempotency_key="campaign-42")
    assert again.status == 200 and again.body["retried"] is True
    assert again.body["enrollment_id"] == enrollment
    from polku.enrollment.service import process_chunk

    redelivered = {"enrollment_id": enrollment, "journey": "cross_sell", "state_machine": "cross-sell",
                   "split": {"A": 0.5, "B": 0.5}, "role": "marketing", "by": marketing.arn, "overrides": {},
                   "chunk": 1, "customers": [{"customer_id": c} for c in ids[:500]]}
    assert process_chunk(redelivered)["started"] == len(known[:50])

    names = {execution_name(enrollment, cid) for cid in ids}
    runs = _executions(twin, "cross-sell", names)
    assert len(runs) == len(known) == len({r["name"] for r in runs})
    assert {r["name"] for r in runs} == {execution_name(enrollment, cid) for cid in known}
    items = enrollments.customer_items(enrollment)
    assert len(items) == 600 and len({i.customer_id for i in items}) == 600
    body = marketing.progress(enrollment).body
    assert body["status"] == "completed" and body["processed"] == 600
    assert body["counts"] == {"started": 60, "already_in_journey": 0, "unknown_customer": 540, "unreachable": 0,
                              "failed": 0}
    # Same key, different request: refused, nothing enrolled.
    conflict = marketing.enroll("cross-sell", ids[:5], idempotency_key="campaign-42")
    assert conflict.status == 409 and conflict.body["error"]["field"] == "Idempotency-Key"


def test_customer_already_in_a_run_is_not_entered_twice(twin, api):
    sales, service = api(["sales"]), api(["service"])
    ids = _customers(2)
    first = sales.enroll("event-invitation", ids, role="sales", properties=EVENT)
    second = service.enroll("event-invitation", ids, role="service", properties=EVENT)
    assert first.status == 202 and second.status == 202
    counts = service.progress(second.body["enrollment_id"]).body["counts"]
    # The invitation waits for the customer's answer, so the first runs are still going.
    assert counts == {"started": 0, "already_in_journey": 2, "unknown_customer": 0, "unreachable": 0, "failed": 0}
    problems = service.progress(second.body["enrollment_id"]).body["problems"]
    assert {p["customer_id"] for p in problems} == set(ids)


def test_an_unreachable_customer_is_refused_by_name_and_nothing_starts(twin, api, capsys):
    """Journeys start only for customers a consented channel reaches (issue #21, 9): an enrolment
    names each refused customer and why; the reachable one starts."""
    sales = api(["sales"])
    reachable, no_consent = _customers(1)[0], _customers(1, consent=False)[0]
    withdrawn = _customers(1, consent=False)[0]
    ProfileModel(withdrawn, traits={"phone": "+358401234567"}, consents={"email": {"granted": True},
                                                                       "sms": {"granted": False}}).save()
    capsys.readouterr()
    resp = sales.enroll("nurture", [reachable, no_consent, withdrawn], role="sales")
    assert resp.status == 202, resp.body
    body = sales.progress(resp.body["enrollment_id"]).body
    from tests.integration.test_journey_reachability import refused_metric

    assert refused_metric(capsys.readouterr().out, "nurture") == 2  # the worker's JourneyStartsRefused
    assert body["status"] == "completed", body
    assert body["counts"] == {"started": 1, "already_in_journey": 0, "unknown_customer": 0, "unreachable": 2,
                              "failed": 0}
    problems = {p["customer_id"]: p for p in body["problems"]}
    assert set(problems) == {no_consent, withdrawn}
    assert problems[no_consent]["status"] == "unreachable"
    assert "no consented channel reaches them" in problems[no_consent]["reason"]
    assert "email: no consent" in problems[no_consent]["reason"]
    assert "email: no address" in problems[withdrawn]["reason"] and "sms: consent withdrawn" in problems[withdrawn]["reason"]
    names = {execution_name(resp.body["enrollment_id"], cid) for cid in (reachable, no_consent, withdrawn)}
    assert [r["name"] for r in _executions(twin, "nurture", names)] == [execution_name(resp.body["enrollment_id"], reachable)]
