"""Erase everything (issue #21, 5): one customer goes through every feature on the twin (events,
identify with e-mail, phone and consents, a running journey, an enrolment with a salesperson's
override and a partner link, a complaint and an earlier-format suppression, the analytics
export), then the PrivacyFunction erases them. Every DynamoDB table, every S3 object of every
bucket and every Step Functions execution of the twin is then searched for the customer id, the
anonymous id, the e-mail address and the phone number: nothing may remain, except the salted
hash of the suppressed addresses (which still blocks them) and the input and history Step
Functions keeps of a closed execution (docs/privacy.md: AWS keeps them 90 days, no API deletes
them). The PrivacyFunction's calls are checked against its policy in template.yaml.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid

import pytest
import requests

from polku.cli.main import main
from polku.data.suppressions import SuppressionModel
from polku.data import enrollments
from polku.enrollment.twin_access import enroll_and_wait, principal_client
from polku.journeys import registry, runs
from polku.messaging import message_log, suppression_list
from polku.messaging.recipient import Recipient
from polku.settings import get_settings
from polku.tracking import profile_store
from polku.tracking.trust_secrets import mint_for, server_key_for
from polku.twin import iam_agreement

from test_iam_agreement import _not_held_out
from test_send_email import _invoke, _payload, _put_profile
from test_template_validation import translate
from waiting import wait_for

pytestmark = pytest.mark.twin

SITE_KEY = "demo-shop"
EXPORTED = ("EventsTable", "MessagesTable", "JourneyStateTable", "EnrollmentsTable")


def _wait(check, what: str):
    value = wait_for(check, timeout=30.0)
    assert value, f"timed out waiting for {what}"
    return value


# ------------------------------------------------------------------ search the whole twin

def _found(text: str, needles: list[str]) -> list[str]:
    low = text.lower()
    return [n for n in needles if n.lower() in low]


def _tables(twin, needles) -> dict[str, list[str]]:
    ddb, hits = twin.client("dynamodb"), {}
    for page in ddb.get_paginator("list_tables").paginate():
        for table in page["TableNames"]:
            for items in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for item in items["Items"]:
                    found = _found(json.dumps(item), needles)
                    if found:
                        hits.setdefault(table, []).append(f"{json.dumps(item)[:160]} has {found}")
    return hits


def _objects(twin, needles) -> dict[str, list[str]]:
    s3, hits = twin.client("s3"), {}
    for bucket in s3.list_buckets()["Buckets"]:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket["Name"]):
            for obj in page.get("Contents", []):
                body = s3.get_object(Bucket=bucket["Name"], Key=obj["Key"])["Body"].read()
                if body[:2] == b"\x1f\x8b":
                    body = gzip.decompress(body)
                found = _found(body.decode("utf-8", "replace"), needles)
                if found:
                    hits.setdefault(bucket["Name"], []).append(f"{obj['Key']} has {found}")
    return hits


def _executions(twin, needles) -> dict[str, dict]:
    """Executions whose name, input, output or history mention a needle: arn -> status."""
    sfn, hits = twin.client("stepfunctions"), {}
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            for ex_page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
                for ex in ex_page["executions"]:
                    described = sfn.describe_execution(executionArn=ex["executionArn"])
                    history = sfn.get_execution_history(executionArn=ex["executionArn"], maxResults=1000)["events"]
                    text = json.dumps([described, history], default=str)
                    if _found(text, needles):
                        hits[ex["executionArn"]] = described["status"]
    return hits


# ------------------------------------------------------------------ the customer, through every feature

def _seed(twin, api) -> dict:
    cust = _not_held_out("browse_abandonment", "erase")
    anon = f"a-{uuid.uuid4().hex[:12]}"
    email = f"{cust}@example.org"
    phone = "+35840" + "".join(random.choice("0123456789") for _ in range(7))

    def event(etype, **who):
        return {"event_id": uuid.uuid4().hex, "type": etype, "ts": "2026-01-05T08:00:00Z",
                "properties": {"url": "https://shop.example.com/tea"}, **who}

    # events (anonymous, then identified) and identify with contacts and web consents (double opt-in
    # sends confirmation links and counts them per address)
    r = requests.post(f"{api}/v1/events", json={"site_key": SITE_KEY, "events": [event("page_view", anonymous_id=anon)]},
                      timeout=30)
    assert r.status_code in (200, 202), r.text
    r = requests.post(f"{api}/v1/identify", json={
        "site_key": SITE_KEY, "anonymous_id": anon, "customer_id": cust,
        "traits": {"email": email, "phone": phone, "first_name": "Erin", "consents": {"email": True, "sms": True}},
        "identity_token": mint_for(SITE_KEY, cust)}, timeout=30)
    assert r.status_code in (200, 202), r.text
    r = requests.post(f"{api}/v1/events", json={"site_key": SITE_KEY, "events": [  # the signed-in browser's
                      event("page_view", anonymous_id=anon, customer_id=cust)]},
                      timeout=30)
    assert r.status_code in (200, 202), r.text
    # the shop's backend vouches for the e-mail consent (journeys start only for reachable customers)
    r = requests.post(f"{api}/v1/server/identify", headers={"X-Polku-Server-Key": server_key_for(SITE_KEY)}, json={
        "site_key": SITE_KEY, "customer_id": cust, "traits": {"email": email, "consents": {"email": True}}}, timeout=30)
    assert r.status_code in (200, 202), r.text

    def reachable():
        recipient = Recipient.from_profile(profile_store.load(cust), cust)
        return recipient.email == email and recipient.has_consent("email") and "email" not in recipient.unconfirmed
    _wait(reachable, "the profile")

    # a running journey (browse_abandonment waits hours before its first step)
    sfn = twin.client("stepfunctions")
    trigger = {"type": "product_view", "event_id": uuid.uuid4().hex, "ts": "2026-01-05T08:00:00Z",
               "properties": {"product_id": "p-1"}}
    entry = runs.enter(registry.current().journeys["browse_abandonment"], cust, trigger, sfn,
                       get_settings().state_machine_prefix)
    assert entry.outcome == "started"

    # an enrolment by a salesperson with a personal override naming the customer, and a partner link
    sales = principal_client(twin, f"arn:aws:iam::123456789012:user/erase-sales-{uuid.uuid4().hex[:6]}", ["sales"])
    progress = enroll_and_wait(sales, "nurture", [{"customer_id": cust, "overrides": {"intro": f"Hi {email}!"}}],
                               role="sales")
    assert progress["counts"]["started"] + progress["counts"].get("already_in_journey", 0) == 1, progress
    enrollments.link_partner_customers(f"partner-{uuid.uuid4().hex[:6]}", [cust])

    # a message, its complaint (FeedbackFunction: suppression + unsubscribe event), and a suppression
    # row of the earlier format (keyed by the plain number, with the customer)
    message_id = f"m-{uuid.uuid4().hex[:12]}"
    assert message_log.claim(message_id, customer_id=cust, journey="welcome", channel="email",
                             address=f"email:{email}").won
    complaint = {"eventType": "Complaint",
                 "mail": {"messageId": "ses-1", "timestamp": "2026-01-05T08:01:00Z", "destination": [email],
                          "tags": {"polku_message_id": [message_id]}},
                 "complaint": {"timestamp": "2026-01-05T08:02:00Z", "complainedRecipients": [{"emailAddress": email}],
                               "complaintFeedbackType": "abuse"}}
    out = twin.client("lambda").invoke(FunctionName=twin.names["FeedbackFunction"],
                                       Payload=json.dumps({"Records": [{"Sns": {"Message": json.dumps(complaint)}}]}))
    assert "FunctionError" not in out, out["Payload"].read()
    SuppressionModel(f"sms:{phone}", reason="unsubscribe", created_at="2025-06-01T00:00:00Z", customer_id=cust,
                     message_id=f"m-old-{cust}").save()

    # a campaign run's audience (a part and a wave, as the fan-out writes them) and its Distributed
    # Map's results (a batch's input and output), beside another customer who stays
    s3, bucket = twin.client("s3"), twin.outputs["CampaignBucketName"]
    run = f"campaigns/spring_newsletter/erase-{uuid.uuid4().hex[:6]}/"
    neighbour = f"other-{uuid.uuid4().hex[:8]}"
    members = [{"customer_id": cust, "variant": "A", "send_at": "2026-01-06T08:00:00.000Z"},
               {"customer_id": neighbour, "variant": "B", "send_at": "2026-01-06T08:00:00.000Z"}]
    for key in ("parts/000.json", "waves/000.json"):
        s3.put_object(Bucket=bucket, Key=run + key, Body=json.dumps(members).encode())
    batch = {"Items": members, "BatchInput": {"campaign": "spring_newsletter"}}
    s3.put_object(Bucket=bucket, Key=run + "results/map-run-1/SUCCEEDED_0.json", Body=json.dumps([
        {"Name": "w0-b0", "Status": "SUCCEEDED", "Input": json.dumps(batch),
         "Output": json.dumps([{"customer_id": cust, "status": "sent"}])}]).encode())

    # the daily analytics export (DynamoDB export to the AnalyticsBucket)
    ddb = twin.client("dynamodb")
    for name in EXPORTED:
        ddb.update_continuous_backups(TableName=twin.names[name],
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    out = twin.client("lambda").invoke(FunctionName=twin.names["AnalyticsExportFunction"], Payload=b"{}")
    assert "FunctionError" not in out
    for export in json.loads(out["Payload"].read())["exports"]:
        _wait(lambda: ddb.describe_export(ExportArn=export["export_arn"])["ExportDescription"]["ExportStatus"]
              != "IN_PROGRESS", "the export")
    return {"customer_id": cust, "anonymous_id": anon, "email": email, "phone": phone,
            "execution_arn": entry.execution_arn, "campaign_run": run,
            "neighbour": neighbour}


def _privacy(twin, payload: dict) -> dict:
    out = twin.client("lambda").invoke(FunctionName=twin.names["PrivacyFunction"], Payload=json.dumps(payload))
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return body


@pytest.fixture(scope="module")
def grants(twin, template):
    return iam_agreement.function_grants(translate(template), twin.resolver)


def test_erase_leaves_nothing_about_the_customer_anywhere(twin, api, grants):
    who = _seed(twin, api)
    needles = [who["customer_id"], who["anonymous_id"], who["email"], who["phone"]]

    # before: the customer is in every kind of place, and export lists each of them
    tables = _tables(twin, needles)
    for table in ("EventsTable", "ProfilesTable", "IdentitiesTable", "MessagesTable", "JourneyStateTable",
                  "EnrollmentsTable", "SuppressionsTable", "RateLimitsTable"):
        assert twin.names[table] in tables, f"{table} does not hold the customer before the erase"
    assert {twin.outputs["AnalyticsBucketName"], twin.outputs["CampaignBucketName"]} <= set(_objects(twin, needles))
    running = {arn for arn, status in _executions(twin, needles).items() if status == "RUNNING"}
    assert who["execution_arn"] in running and len(running) >= 2, running  # browse_abandonment and nurture
    exported = _privacy(twin, {"action": "export", "customer_id": who["customer_id"]})
    for place in ("events", "profiles", "messages", "journey_state", "executions", "suppressions", "enrollments",
                  "enrollment_mentions", "rate_limits", "analytics_exports", "campaign_files"):
        assert exported[place], f"export lists nothing in {place}"
    assert {s["address"] for s in exported["suppressions"]} == {f"email:{who['email']}", f"sms:{who['phone']}"}
    assert running <= {e["execution_arn"] for e in exported["executions"]}

    with iam_agreement.recording() as rec:
        result = _privacy(twin, {"action": "erase", "customer_id": who["customer_id"]})
    assert result["stopped_executions"] == len(running)
    checked = iam_agreement.check(rec, grants)
    assert "PrivacyFunction" in checked.called
    assert not checked.missing.get("PrivacyFunction"), checked.missing.get("PrivacyFunction")

    # after: no table and no object holds any of them
    assert _tables(twin, needles) == {}
    assert _objects(twin, needles) == {}
    # the campaign's other recipient is still in its audience (a redrive still reaches them, not the erased one)
    s3, bucket = twin.client("s3"), twin.outputs["CampaignBucketName"]
    wave = json.loads(s3.get_object(Bucket=bucket, Key=who["campaign_run"] + "waves/000.json")["Body"].read())
    assert [m["customer_id"] for m in wave] == [who["neighbour"]]
    assert result["removed"]["campaign_audience_members"] == 2 and result["removed"]["campaign_files_rewritten"] == 3
    # executions: none running; the closed ones keep their input and history in Step Functions (90 days)
    left = _executions(twin, needles)
    assert "RUNNING" not in left.values(), left
    assert running <= set(left)

    # the opt-outs still hold, keyed only by the salted hash, without the message that caused them
    for key in (f"email:{who['email']}", f"sms:{who['phone']}"):
        assert suppression_list.is_suppressed(key)
        row = SuppressionModel.get(suppression_list.hashed(key))
        assert row.message_id is None and row.customer_id is None and row.reason in ("complaint", "unsubscribe")

    # a second erase finds nothing
    again = _privacy(twin, {"action": "erase", "customer_id": who["customer_id"]})
    assert set(again["removed"].values()) == {0} and again["stopped_executions"] == 0, again


def test_an_anonymous_visitors_export_and_erase_are_allowed_by_the_functions_policy(twin, api, grants):
    anon = f"a-{uuid.uuid4().hex[:12]}"
    r = requests.post(f"{api}/v1/events", json={"site_key": SITE_KEY, "events": [{
        "event_id": uuid.uuid4().hex, "type": "page_view", "anonymous_id": anon, "ts": "2026-01-05T08:00:00Z",
        "properties": {"url": "https://shop.example.com/"}}]}, timeout=30)
    assert r.status_code in (200, 202), r.text
    _wait(lambda: profile_store.load(f"anon:{anon}"), "the anonymous profile")
    with iam_agreement.recording() as rec:
        assert _privacy(twin, {"action": "export", "anonymous_id": anon})["events"]
        assert _privacy(twin, {"action": "erase", "anonymous_id": anon})["removed"]["events"] == 1
    checked = iam_agreement.check(rec, grants)
    assert "PrivacyFunction" in checked.called
    assert not checked.missing.get("PrivacyFunction"), checked.missing.get("PrivacyFunction")
    assert _tables(twin, [anon]) == {}


def test_an_erased_customers_opt_out_still_blocks_their_address(twin, api, virtual_clock):
    """Customer A complains and is erased; B signs up later with the same address (in other case):
    Send refuses B on the suppression list, which holds no address."""
    first, second = f"c-{uuid.uuid4().hex[:12]}", f"c-{uuid.uuid4().hex[:12]}"
    addr = f"{first}@example.org"
    _put_profile(twin, first, email_addr=addr)
    sent = _invoke(twin, _payload(first))
    assert sent["status"] == "sent", sent
    complaint = {"eventType": "Complaint", "mail": {"messageId": sent["provider_id"], "destination": [addr],
                                                    "tags": {"polku_message_id": [sent["message_id"]]}},
                 "complaint": {"complainedRecipients": [{"emailAddress": addr}], "complaintFeedbackType": "abuse"}}
    twin.client("lambda").invoke(FunctionName=twin.names["FeedbackFunction"],
                                 Payload=json.dumps({"Records": [{"Sns": {"Message": json.dumps(complaint)}}]}))
    assert suppression_list.is_suppressed(f"email:{addr}")
    assert _privacy(twin, {"action": "erase", "customer_id": first})["removed"]["suppressions_anonymised"] == 1
    assert _tables(twin, [addr]) == {}

    _put_profile(twin, second, email_addr=addr.upper())
    result = _invoke(twin, _payload(second))
    assert result["status"] == "skipped" and "suppression" in result["reason"], result


def test_rows_of_the_earlier_format_are_rewritten_under_the_hash(twin, api, capsys):
    phone, addr = "+35840" + "".join(random.choice("0123456789") for _ in range(7)), f"{uuid.uuid4().hex}@example.org"
    for key in (f"sms:{phone}", f"email:{addr}"):
        SuppressionModel(key, reason="bounce", created_at="2025-06-01T00:00:00Z", customer_id="c-old").save()
    assert not suppression_list.is_suppressed(f"email:{addr}")  # Send reads only the hash
    assert main(["--endpoint", api, "customers", "hash-suppressions"]) == 0
    assert "rewrote" in capsys.readouterr().err
    assert _tables(twin, [phone, addr]) == {}
    assert suppression_list.is_suppressed(f"sms:{phone}") and suppression_list.is_suppressed(f"email:{addr}")
    assert SuppressionModel.get(suppression_list.hashed(f"email:{addr}")).reason == "bounce"
