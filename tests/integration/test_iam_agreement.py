"""IAM agreement (issue #21, 2): every AWS call a function makes on the twin is allowed by that
function's policies in the SAM-translated template.

The twin does not enforce IAM. Here the main flows run on the twin with recording on
(:mod:`polku.twin.iam_agreement`): tracked events and identify through the HTTP API, the
welcome journey sending mail, the open pixel, a click resuming the journey, unsubscribe, SES
feedback through the topic, a signed enrolment and the daily scheduler. Every call is checked
against the function's role; a missing right fails the test and the rights no call used are
listed (``-s`` prints them).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
import time
import uuid

import pytest
import requests

from polku import clock
from polku.twin import iam_agreement

from test_send_email import _local, _sent_messages
from test_template_validation import translate

pytestmark = pytest.mark.twin

SITE_KEY = "demo-shop"


def _not_held_out(journey: str, prefix: str) -> str:
    from polku.journeys.registry import load
    from polku.journeys.runs import in_holdout

    j = load().get(journey)
    tag = uuid.uuid4().hex[:8]
    return next(f"{prefix}-{tag}-{i}" for i in range(1000) if not in_holdout(j, f"{prefix}-{tag}-{i}"))


def _post_events(api, events):
    r = requests.post(f"{api}/v1/events", data=json.dumps({"site_key": SITE_KEY, "events": events}),
                      headers={"Content-Type": "text/plain"}, timeout=30)
    assert r.status_code in (200, 202), r.text
    return r.json()


def _event(etype, cid, anon, ts, **props):
    """An event of the customer's signed-in browser (``anon``, linked to them by identify)."""
    return {"event_id": f"e-{uuid.uuid4().hex[:12]}", "type": etype, "customer_id": cid, "anonymous_id": anon, "ts": ts,
            "properties": props}


def _mail_to(addr, timeout=20.0, confirmations=False):
    """The journeys' mails to ``addr`` (or, ``confirmations``, the double opt-in links sent to it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in _sent_messages(None) if addr in (getattr(m, "raw_data", None) or "")
                 and ("X-Polku-Message-Id: confirm-" in m.raw_data) == confirmations]
        if found:
            return [email.message_from_string(m.raw_data, policy=email.policy.default) for m in found]
        time.sleep(0.05)
    raise AssertionError(f"no mail to {addr}")


def _links(msg) -> dict:
    html = msg.get_body(("html",)).get_content()
    urls = re.findall(r'(?:href|src)="([^"]+)"', html)
    return {
        "open": next(u for u in urls if "/v1/o/" in u),
        "click": next(u for u in urls if "/v1/c/" in u),
        "unsubscribe": next(u for u in urls if "/v1/unsubscribe/" in u),
    }


@pytest.fixture(scope="module")
def grants(twin, template):
    return iam_agreement.function_grants(translate(template), twin.resolver)


def _drive_main_flows(twin, vc):
    """Runs as the clock's driver (an actor): time moves only when this says so (sleep_until)."""
    from polku.data.profiles import ProfileModel
    from polku.enrollment.twin_access import enroll_and_wait, principal_client
    from polku.journeys import runs
    from polku.data import messages
    from polku.tracking.trust_secrets import mint_for

    api = twin.api_url
    cid = _not_held_out("welcome", "iam")
    addr = f"{cid}@example.org"
    anon = f"a-{uuid.uuid4().hex[:12]}"
    day = vc.now()
    ts = lambda minutes: (day + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731

    # tracking: anonymous browsing, identify (profile, consents), a sign-up that starts welcome
    _post_events(api, [{"event_id": f"e-{uuid.uuid4().hex[:12]}", "type": "page_view", "anonymous_id": anon,
                        "ts": ts(0), "properties": {"url": "https://shop.example.com/"}}])
    r = requests.post(f"{api}/v1/identify", json={
        "site_key": SITE_KEY, "anonymous_id": anon, "customer_id": cid, "ts": ts(1),
        "traits": {"email": addr, "first_name": "Iam", "consents": {"email": True}},
        "identity_token": mint_for(SITE_KEY, cid)}, timeout=30)  # as the shop's backend mints it
    assert r.status_code in (200, 202), r.text
    # double opt-in (#16.3): the e-mail consent given on the web counts once its link is used
    [confirmation] = _mail_to(addr, confirmations=True)
    link = re.search(r"https?://\S+/v1/consent/confirm/[A-Za-z0-9_.%-]+", confirmation.get_body(("plain",)).get_content())
    assert requests.post(_local(twin, link.group(0)), timeout=30).status_code == 200
    _post_events(api, [_event("product_view", cid, anon, ts(2), product_id="p-1", category="bakery", price=3.5),
                       _event("form_submit", cid, anon, ts(3), form_id="signup")])
    [welcome] = _mail_to(addr)
    links = _links(welcome)
    # the pixel and a click (feedback on the message log; the click resumes the journey's wait)
    assert requests.get(_local(twin, links["open"]), timeout=30).status_code == 200
    assert requests.get(_local(twin, links["click"]), allow_redirects=False, timeout=30).status_code in (301, 302, 303)
    deadline = time.monotonic() + 20
    while len(_mail_to(addr)) < 2 and time.monotonic() < deadline:  # the picks after the click
        vc.yield_now()
        time.sleep(0.05)
    assert len(_mail_to(addr)) >= 2
    # SES feedback through the topic (Feedback function)
    [m] = [m for m in messages.of_customer(cid) if m.step == "SendWelcome"]
    twin.client("sns").publish(TopicArn=twin.names["SesEventsTopic"], Message=json.dumps({
        "eventType": "Delivery",
        "mail": {"messageId": m.provider_id, "timestamp": ts(4), "destination": [addr],
                 "tags": {"polku_message_id": [m.message_id]}},
        "delivery": {"timestamp": ts(5)}}))
    # unsubscribe (one-click POST, as mail clients do)
    r = requests.post(_local(twin, links["unsubscribe"]), data="List-Unsubscribe=One-Click",
                      headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert r.status_code in (200, 202, 204), r.text
    vc.yield_now()

    # signed enrolments (EnrollmentQueue -> EnrollmentWorkerFunction); the second one, by another
    # salesperson, finds the customer in the journey (the worker asks Step Functions if the run is running)
    enrolled = _not_held_out("nurture", "iam-enrol")
    ProfileModel(enrolled, traits={"email": f"{enrolled}@example.com", "first_name": "Eve"},
                 consents={"email": {"granted": True}}, time_zone="UTC").save()
    progress = []
    for _ in range(2):
        sales = principal_client(twin, f"arn:aws:iam::123456789012:user/iam-sales-{uuid.uuid4().hex[:6]}", ["sales"])
        progress.append(enroll_and_wait(sales, "nurture", [enrolled], role="sales")["counts"])
        vc.yield_now()
    assert progress[0]["started"] == 1 and progress[1]["already_in_journey"] == 1, progress

    # the schedules of two days: the 09:00 tick enters a lapsed customer in win_back; the next day's
    # tick finds the run and asks Step Functions whether it is still running (DescribeExecution)
    lapsed = _not_held_out("win_back", "iam-lapsed")
    ProfileModel(lapsed, traits={"email": f"{lapsed}@example.com", "first_name": "Lu"},
                 consents={"email": {"granted": True}}, time_zone="UTC", orders=2,
                 last_seen=clock.to_iso(vc.now() - dt.timedelta(days=90))).save()
    ran = []
    for days in (1, 2):
        before = vc.now()
        tick = (day + dt.timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)
        vc.sleep_until(tick)
        ran += twin.run_schedules(before, tick)
        vc.yield_now()
        assert [r.journey for r in runs.running(lapsed)] == ["win_back"], days
    failed = [r for r in ran if r[2] is not None and not (r[1].endswith("-train") and r[2] == "TrainingError")]
    assert ran and not failed, failed  # (too few events to train a model is the trainer's own refusal)


@pytest.fixture(scope="module")
def recorded(twin):
    """The main flows, run once with recording on (under a virtual clock, daytime in Helsinki)."""
    from polku import clock as clock_mod

    vc = clock_mod.VirtualClock(dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.timezone.utc))
    previous = clock_mod.set_clock(vc)
    try:
        with iam_agreement.recording() as rec, vc.actor():
            _drive_main_flows(twin, vc)
    finally:
        clock_mod.set_clock(previous)
    return rec


def test_every_call_of_the_main_flows_is_allowed_by_the_functions_policy(recorded, grants, capsys):
    result = iam_agreement.check(recorded, grants)
    with capsys.disabled():
        print("\nIAM agreement, calls per function:", dict(sorted(result.called.items())))
        print(result.report())
    expected = {"TrackApiFunction", "ProfileUpdaterFunction", "JourneyTriggerFunction", "SendFunction",
                "JourneyStepFunction", "WaitForEventFunction", "FeedbackFunction", "EnrollmentWorkerFunction",
                "JourneySchedulerFunction"}
    assert expected <= set(result.called), sorted(result.called)
    assert not result.missing, "calls no policy allows:\n" + "\n".join(
        f"{fn}: {a} on {r}" for fn, rows in sorted(result.missing.items()) for a, r in rows)


def test_the_rights_issue_21_and_22_found_missing_are_used_by_the_flows(recorded, grants):
    """Without them (the template before the fix) the check fails naming each one."""
    def without(fn: str, action: str) -> list:
        return [iam_agreement.Grant(tuple(a for a in g.actions if a != action), g.resources) for g in grants[fn]]

    narrowed = {**grants,
                "TrackApiFunction": without("TrackApiFunction", "dynamodb:UpdateItem"),
                "JourneySchedulerFunction": without("JourneySchedulerFunction", "states:DescribeExecution"),
                "EnrollmentWorkerFunction": without("EnrollmentWorkerFunction", "states:DescribeExecution")}
    missing = iam_agreement.check(recorded, narrowed).missing
    assert any(a == "dynamodb:UpdateItem" and r.endswith("-messages") for a, r in missing["TrackApiFunction"])
    assert [a for a, _ in missing["JourneySchedulerFunction"]] == ["states:DescribeExecution"]
    assert [a for a, _ in missing["EnrollmentWorkerFunction"]] == ["states:DescribeExecution"]


def test_a_missing_right_is_reported_with_the_function_action_and_resource():
    rec = iam_agreement.Recording()
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/polku-local-messages"
    rec.add("TrackApiFunction", "dynamodb:UpdateItem", [table])
    rec.add("TrackApiFunction", "dynamodb:GetItem", [table])
    read = iam_agreement.Grant(("dynamodb:GetItem", "dynamodb:Query"), (table, f"{table}/index/*"))
    result = iam_agreement.check(rec, {"TrackApiFunction": [read]})
    assert result.missing == {"TrackApiFunction": [("dynamodb:UpdateItem", table)]}
    assert ("dynamodb:Query", table) in result.unused["TrackApiFunction"]
    assert ("dynamodb:GetItem", table) not in result.unused["TrackApiFunction"]


def test_actions_without_resource_level_permissions_need_a_statement_on_star():
    rec = iam_agreement.Recording()
    rec.add("JourneyTriggerFunction", "states:SendTaskSuccess", ["*"])
    narrow = iam_agreement.Grant(("states:SendTaskSuccess",), ("arn:aws:states:eu-west-1:123456789012:*",))
    assert iam_agreement.check(rec, {"JourneyTriggerFunction": [narrow]}).missing
    star = iam_agreement.Grant(("states:SendTaskSuccess",), ("*",))
    assert not iam_agreement.check(rec, {"JourneyTriggerFunction": [star]}).missing


def test_resources_of_the_calls_polku_makes():
    r = iam_agreement.resources_of
    acct, region = "123456789012", "eu-west-1"
    assert r("dynamodb", "Query", {"TableName": "t", "IndexName": "by_customer"}, region, acct) == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/t/index/by_customer"]
    assert r("ses", "SendEmail", {"FromEmailAddress": "Shop <hello@example.com>", "ConfigurationSetName": "cs"},
             region, acct) == ["arn:aws:ses:eu-west-1:123456789012:identity/example.com",
                               "arn:aws:ses:eu-west-1:123456789012:configuration-set/cs"]
    assert r("sns", "Publish", {"PhoneNumber": "+358401234567", "Message": "x"}, region, acct) == ["*"]
    assert r("events", "PutEvents", {"Entries": [{"EventBusName": "bus"}]}, region, acct) == [
        "arn:aws:events:eu-west-1:123456789012:event-bus/bus"]
    assert r("sqs", "SendMessage", {"QueueUrl": "http://localhost/123456789012/q"}, region, acct) == [
        "arn:aws:sqs:eu-west-1:123456789012:q"]
    assert r("lambda", "Invoke", {"FunctionName": "f"}, region, acct) == ["arn:aws:lambda:eu-west-1:123456789012:function:f"]


def test_a_nested_recording_also_feeds_the_enclosing_one():
    before = iam_agreement.active()  # a whole session's recording, with POLKU_RECORD_IAM=1
    with iam_agreement.recording() as outer, iam_agreement.recording() as inner:
        inner.add("SendFunction", "ses:SendEmail", ["arn:aws:ses:eu-west-1:123456789012:identity/example.com"])
    assert outer.calls == inner.calls and sum(outer.calls.values()) == 1
    assert iam_agreement.active() is before
