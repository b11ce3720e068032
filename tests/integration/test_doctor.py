"""`polku doctor` (issue #22): on the twin it checks what the twin can and says what does not apply
locally; against a stack its AWS-only checks read SES, SNS and KMS (fake clients here)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from polku.cli.doctor import FAIL, NOT_LOCAL, OK, WARN, Doctor, missing_grants

REPO = Path(__file__).resolve().parents[2]
POLKU = [sys.executable, "-m", "polku.cli.main"]
AWS_ONLY = {"ses-production-access", "sms-sandbox", "topic-key", "alarm-subscription"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_twin():
    api, aws = _free_port(), _free_port()
    proc = subprocess.Popen(POLKU + ["local", "--port", str(api), "--aws-port", str(aws)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "ready" in line:
            break
        if proc.poll() is not None:
            pytest.fail("polku local exited:\n" + "".join(lines))
    else:
        proc.kill()
        pytest.fail("polku local did not become ready:\n" + "".join(lines))
    yield SimpleNamespace(url=f"http://127.0.0.1:{api}", startup=lines)
    proc.terminate()
    proc.wait(timeout=20)


def test_polku_local_lists_the_operations_resources_as_not_emulated_one_line_per_kind(local_twin, template):
    lines = [line for line in local_twin.startup if "not emulated" in line]
    n_alarms = len(template.of_type("AWS::CloudWatch::Alarm"))
    alarms = [line for line in lines if "no CloudWatch metrics in the twin (alarms" in line]
    assert len(alarms) == 1 and f"not emulated {n_alarms} resources (" in alarms[0]
    assert any("TopicsKey:" in line for line in lines)
    assert any("LogGroup" in line and "no CloudWatch Logs" in line for line in lines)


def _doctor(endpoint: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(POLKU + ["--endpoint", endpoint, "doctor", *extra], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_doctor_passes_on_a_fresh_twin_and_names_what_does_not_apply_locally(local_twin):
    run = _doctor(local_twin.url, "--json")
    assert run.returncode == 0, run.stdout + run.stderr
    checks = {c["name"]: c for c in json.loads(run.stdout)}
    assert {n for n, c in checks.items() if c["status"] == NOT_LOCAL} == AWS_ONLY
    assert all("does not apply locally" in checks[n]["detail"] for n in AWS_ONLY)
    for name in ("outputs", "api", "tables", "buckets", "queues", "journeys", "ses-identity", "dkim", "ses-events"):
        assert checks[name]["status"] == OK, checks[name]
    assert "8 tables ACTIVE" in checks["tables"]["detail"]


def test_doctor_text_report_and_a_waiting_dead_letter_queue(local_twin):
    from polku.cli.target import Target

    target = Target.from_twin(local_twin.url)
    sqs = target.client("sqs")
    url = target.outputs["FeedbackDLQUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="{}")
    try:
        run = _doctor(local_twin.url)
        assert run.returncode == 0  # a waiting message is a warning, not a failure
        assert "[warn] queues: messages wait in FeedbackDLQUrl (1)" in run.stdout
        assert "4 do not apply locally" in run.stdout
    finally:
        sqs.purge_queue(QueueUrl=url)


def test_doctor_fails_when_the_sender_identity_is_not_verified(local_twin):
    from polku.cli.target import Target

    target = Target.from_twin(local_twin.url)
    domain = target.outputs["SenderDomain"]
    ses = target.client("ses")
    ses.delete_identity(Identity=domain)
    try:
        run = _doctor(local_twin.url)
        assert run.returncode == 1
        assert f"[FAIL] ses-identity: SES identity {domain}: absent" in run.stdout
        assert "SenderDkimRecord" in run.stdout  # the fix names where the DNS records are
    finally:
        ses.verify_domain_identity(Domain=domain)
        ses.verify_domain_dkim(Domain=domain)


def test_doctor_fails_while_a_registry_entry_is_not_published(local_twin):
    from polku.cli.target import Target
    from polku.journeys import publish

    target = Target.from_twin(local_twin.url)
    s3, bucket = target.client("s3"), target.outputs["JourneysBucketName"]
    published = s3.get_object(Bucket=bucket, Key=publish.REGISTRY_KEY)["Body"].read().decode()
    s3.put_object(Bucket=bucket, Key=publish.REGISTRY_KEY, Body=published + (
        "\n  unpublished_one:\n    description: not yet published\n    trigger: {event: custom}\n"))
    try:
        run = _doctor(local_twin.url)
        assert run.returncode == 1
        assert "[FAIL] journeys: in the registry but not published: unpublished_one" in run.stdout
        assert "polku journeys publish" in run.stdout
    finally:
        s3.put_object(Bucket=bucket, Key=publish.REGISTRY_KEY, Body=published)
    assert _doctor(local_twin.url).returncode == 0


# ------------------------------------------------------------------ the AWS-only checks, with fake clients
class _Client:
    def __init__(self, **answers):
        self.answers = answers

    def __getattr__(self, name):
        answer = self.answers[name]
        return lambda **kwargs: answer(**kwargs) if callable(answer) else answer


class _Target:
    endpoint_url = None
    api_url = None

    def __init__(self, clients, outputs):
        self.clients, self.outputs = clients, outputs

    def client(self, service):
        return self.clients[service]


OUTPUTS = {"SesEventsTopicArn": "arn:aws:sns:eu-west-1:1:polku-prod-ses-events",
           "AlarmsTopicArn": "arn:aws:sns:eu-west-1:1:polku-prod-alarms"}
SES_POLICY = {"Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*", "Resource": "*"},
    {"Effect": "Allow", "Principal": {"Service": ["ses.amazonaws.com", "cloudwatch.amazonaws.com"]},
     "Action": ["kms:GenerateDataKey*", "kms:Decrypt"], "Resource": "*"}]}


def _topic_key(key: str | None, policy: dict | None = None):
    attrs = {} if key is None else {"KmsMasterKeyId": key}
    clients = {"sns": _Client(get_topic_attributes={"Attributes": attrs}),
               "kms": _Client(describe_key={"KeyMetadata": {"KeyId": "k-1"}},
                              get_key_policy={"Policy": json.dumps(policy or {})})}
    (check,) = Doctor(_Target(clients, OUTPUTS)).check_topic_key()
    return check


def test_topic_key_check():
    assert _topic_key("alias/aws/sns").status == FAIL
    assert _topic_key("k-1", SES_POLICY).status == OK
    root_only = {"Statement": SES_POLICY["Statement"][:1]}
    check = _topic_key("k-1", root_only)
    assert check.status == FAIL and "kms:GenerateDataKey*, kms:Decrypt" in check.detail
    assert _topic_key(None).status == WARN


def test_missing_grants_reads_string_and_list_forms():
    one = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "ses.amazonaws.com"}, "Action": "kms:Decrypt"}]}
    assert missing_grants(one, "ses.amazonaws.com", ("kms:GenerateDataKey*", "kms:Decrypt")) == ["kms:GenerateDataKey*"]
    deny = {"Statement": [{**SES_POLICY["Statement"][1], "Effect": "Deny"}]}
    assert len(missing_grants(deny, "ses.amazonaws.com", ("kms:Decrypt",))) == 1


@pytest.mark.parametrize("account, status", [
    ({"ProductionAccessEnabled": False, "SendingEnabled": True, "SendQuota": {"MaxSendRate": 1, "Max24HourSend": 200}}, FAIL),
    ({"ProductionAccessEnabled": True, "SendingEnabled": False}, FAIL),
    ({"ProductionAccessEnabled": True, "SendingEnabled": True, "SendQuota": {"MaxSendRate": 14, "Max24HourSend": 50000}}, OK),
])
def test_production_access_check(account, status):
    (check,) = Doctor(_Target({"sesv2": _Client(get_account=account)}, OUTPUTS)).check_production_access()
    assert check.status == status


def test_sms_sandbox_check_reports_the_spend_limit():
    sns = _Client(get_sms_sandbox_account_status={"IsInSandbox": True}, get_sms_attributes={"attributes": {}})
    (check,) = Doctor(_Target({"sns": sns}, OUTPUTS)).check_sms_sandbox()
    assert check.status == WARN and "1 (the default) USD/month" in check.detail


@pytest.mark.parametrize("subscriptions, status", [
    ([], FAIL),
    ([{"SubscriptionArn": "PendingConfirmation", "Endpoint": "ops@shop.fi"}], FAIL),
    ([{"SubscriptionArn": "arn:aws:sns:eu-west-1:1:polku-prod-alarms:abc", "Endpoint": "ops@shop.fi"}], OK),
])
def test_alarm_subscription_check(subscriptions, status):
    sns = _Client(list_subscriptions_by_topic={"Subscriptions": subscriptions})
    (check,) = Doctor(_Target({"sns": sns}, OUTPUTS)).check_alarm_subscription()
    assert check.status == status


def test_stack_is_accepted_before_and_after_the_command():
    from polku.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["doctor", "--stack", "polku-prod"]).stack == "polku-prod"
    assert parser.parse_args(["--stack", "polku-prod", "doctor"]).stack == "polku-prod"
    assert parser.parse_args(["doctor"]).stack is None
