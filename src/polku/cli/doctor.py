"""``polku doctor``: is this deployment ready to send? Checks what `sam deploy` cannot.

Against a deployed stack (``polku doctor --stack NAME``) it reads the stack's Outputs and asks AWS:
the SES sender identity and its DKIM, SES production access, the SNS SMS sandbox and spend limit,
the key policy of the topic SES publishes to, the alarms topic's confirmed subscription, and whether
the Outputs answer (API health, tables, buckets, queues). On the local twin (no ``--stack``) it runs
the same checks where the twin can and says plainly which do not apply locally.

Exit status 0 when nothing failed (warnings allowed), 1 when a check failed. docs/deploy.md says
how to fix each finding.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Callable

OK, WARN, FAIL, NOT_LOCAL = "ok", "warn", "FAIL", "n/a"
SES_PUBLISHER = "ses.amazonaws.com"
KEY_ACTIONS = ("kms:GenerateDataKey*", "kms:Decrypt")


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""


class Doctor:
    """Runs the checks against a target (``polku.cli.target.Target``: the twin or a stack)."""

    def __init__(self, target, http_get: Callable[[str], int | str] | None = None):
        self.target = target
        self.outputs = target.outputs
        self.local = bool(target.endpoint_url)
        self.http_get = http_get or _http_status
        self._clients: dict = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.target.client(service)
        return self._clients[service]

    def run(self) -> list[Check]:
        checks: list[Check] = []
        for fn in (self.check_outputs, self.check_api, self.check_tables, self.check_buckets, self.check_queues,
                   self.check_journeys,
                   self.check_ses_identity, self.check_dkim, self.check_ses_events, self.check_production_access,
                   self.check_sms_sandbox, self.check_topic_key, self.check_alarm_subscription):
            try:
                checks.extend(fn())
            except Exception as exc:  # one broken check must not hide the others
                checks.append(Check(fn.__name__.removeprefix("check_").replace("_", "-"), FAIL,
                                    f"could not check: {type(exc).__name__}: {exc}"))
        return checks

    def _not_local(self, name: str, why: str) -> list[Check]:
        return [Check(name, NOT_LOCAL, f"does not apply locally: {why}")]

    # ------------------------------------------------------------ the stack's own resources
    def check_outputs(self) -> list[Check]:
        needed = ["ApiUrl", "SenderDomain", "SesConfigurationSetName", "SesEventsTopicArn", "AlarmsTopicArn",
                  "EventsTableName", "ProfilesTableName", "MessagesTableName", "StateMachinePrefix"]
        missing = [k for k in needed if not self.outputs.get(k)]
        if missing:
            return [Check("outputs", FAIL, f"missing Outputs: {', '.join(missing)}",
                          "deploy the current template.yaml (`sam build && sam deploy`)")]
        return [Check("outputs", OK, f"{len(self.outputs)} Outputs")]

    def check_api(self) -> list[Check]:
        base = self.outputs.get("ApiUrl") if not self.local else self.target.api_url
        if not base:
            return [Check("api", FAIL, "no API URL")]
        url = base.rstrip("/") + "/v1/health"
        status = self.http_get(url)
        if status == 200:
            return [Check("api", OK, f"GET {url} -> 200")]
        return [Check("api", FAIL, f"GET {url} -> {status}", "see the TrackApiFunction's logs")]

    def check_tables(self) -> list[Check]:
        ddb = self.client("dynamodb")
        tables = {k: v for k, v in self.outputs.items() if k.endswith("TableName")}
        bad = []
        for key, name in sorted(tables.items()):
            status = ddb.describe_table(TableName=name)["Table"]["TableStatus"]
            if status != "ACTIVE":
                bad.append(f"{name} is {status}")
        if bad:
            return [Check("tables", FAIL, "; ".join(bad))]
        return [Check("tables", OK, f"{len(tables)} tables ACTIVE")]

    def check_buckets(self) -> list[Check]:
        s3 = self.client("s3")
        buckets = sorted(v for k, v in self.outputs.items() if k.endswith("BucketName"))
        for name in buckets:
            s3.head_bucket(Bucket=name)
        return [Check("buckets", OK, f"{len(buckets)} buckets answer")]

    def check_queues(self) -> list[Check]:
        sqs = self.client("sqs")
        queues = {k: v for k, v in self.outputs.items() if k.endswith("QueueUrl") or k.endswith("DLQUrl")}
        waiting = {}
        for key, url in sorted(queues.items()):
            attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
            n = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
            if n:
                waiting[key] = n
        if waiting:
            return [Check("queues", WARN, "messages wait in " + ", ".join(f"{k} ({n})" for k, n in waiting.items()),
                          "docs/operations.md: inspect and redrive a DLQ")]
        return [Check("queues", OK, f"{len(queues)} failure queues, all empty")]

    def check_journeys(self) -> list[Check]:
        """The published registry is readable and every journey in it has its alias live."""
        import yaml
        from botocore.exceptions import ClientError

        from polku.journeys import publish, registry

        fix = "polku journeys publish (with --stack NAME for a stack; docs/deploy.md, Publishing journeys)"
        stack = publish.JourneyStack.from_outputs(self.outputs)
        try:
            body = self.client("s3").get_object(Bucket=stack.bucket, Key=publish.REGISTRY_KEY)["Body"].read()
        except ClientError as exc:
            return [Check("journeys", FAIL, f"no published registry in s3://{stack.bucket}/{publish.REGISTRY_KEY} "
                          f"({exc.response['Error']['Code']}): no journey starts", fix)]
        reg = registry.parse(yaml.safe_load(body))
        sfn = self.client("stepfunctions")
        missing = [j.name for j in reg.journeys.values() if publish.live_version(sfn, j, stack) is None]
        if missing:
            return [Check("journeys", FAIL, f"in the registry but not published: {', '.join(missing)}", fix)]
        return [Check("journeys", OK, f"{len(reg.journeys)} journeys published behind their alias live")]

    # ------------------------------------------------------------ SES
    def check_ses_identity(self) -> list[Check]:
        domain = self.outputs.get("SenderDomain", "")
        attrs = self.client("ses").get_identity_verification_attributes(Identities=[domain])["VerificationAttributes"]
        status = attrs.get(domain, {}).get("VerificationStatus", "absent")
        if status == "Success":
            return [Check("ses-identity", OK, f"{domain} is verified for sending")]
        return [Check("ses-identity", FAIL, f"SES identity {domain}: {status}",
                      "add the DKIM CNAME records (stack Outputs SenderDkimRecord1-3) to the domain's DNS; "
                      "with CreateEmailIdentity=false, create and verify the identity in the SES console")]

    def check_dkim(self) -> list[Check]:
        domain = self.outputs.get("SenderDomain", "")
        attrs = self.client("ses").get_identity_dkim_attributes(Identities=[domain])["DkimAttributes"].get(domain, {})
        status = attrs.get("DkimVerificationStatus", "absent")
        if attrs.get("DkimEnabled") and status == "Success":
            return [Check("dkim", OK, f"DKIM signing on for {domain}")]
        records = [self.outputs[k] for k in sorted(self.outputs) if k.startswith("SenderDkimRecord")]
        return [Check("dkim", FAIL, f"DKIM for {domain}: {status}, enabled={attrs.get('DkimEnabled', False)}",
                      "add these CNAME records: " + ("; ".join(records) or "see the identity in the SES console"))]

    def check_ses_events(self) -> list[Check]:
        name, topic = self.outputs.get("SesConfigurationSetName", ""), self.outputs.get("SesEventsTopicArn", "")
        found = self.client("ses").describe_configuration_set(
            ConfigurationSetName=name, ConfigurationSetAttributeNames=["eventDestinations"])["EventDestinations"]
        to_topic = [d for d in found if d.get("Enabled") and d.get("SNSDestination", {}).get("TopicARN") == topic]
        wanted = {"bounce", "complaint"}
        if to_topic and wanted <= {t.lower() for t in to_topic[0]["MatchingEventTypes"]}:
            return [Check("ses-events", OK, f"configuration set {name} sends bounces and complaints to the topic")]
        return [Check("ses-events", FAIL, f"configuration set {name} does not send bounces/complaints to {topic}",
                      "deploy the template's SesEventDestination")]

    def check_production_access(self) -> list[Check]:
        if self.local:
            return self._not_local("ses-production-access", "the twin has no SES sandbox (every identity is verified)")
        account = self.client("sesv2").get_account()
        quota = account.get("SendQuota", {})
        rate = f"{quota.get('MaxSendRate', '?')}/s, {quota.get('Max24HourSend', '?')}/24 h"
        if not account.get("SendingEnabled", True):
            return [Check("ses-production-access", FAIL, "SES sending is paused for this account",
                          "read the SES console's reputation page; docs/operations.md")]
        if not account.get("ProductionAccessEnabled"):
            return [Check("ses-production-access", FAIL, f"SES sandbox: only verified recipients, {rate}",
                          "request production access (SES console > Account dashboard); about 24 h")]
        return [Check("ses-production-access", OK, f"production access, {rate}")]

    # ------------------------------------------------------------ SNS SMS
    def check_sms_sandbox(self) -> list[Check]:
        if self.local:
            return self._not_local("sms-sandbox", "the twin delivers SMS to its own log; no sandbox or spend limit")
        sns = self.client("sns")
        in_sandbox = sns.get_sms_sandbox_account_status()["IsInSandbox"]
        limit = sns.get_sms_attributes(attributes=["MonthlySpendLimit"]).get("attributes", {}).get(
            "MonthlySpendLimit", "1 (the default)")
        if in_sandbox:
            return [Check("sms-sandbox", WARN, f"SMS sandbox: only verified numbers; spend limit {limit} USD/month",
                          "request to leave the SMS sandbox and raise the spend limit (docs/deploy.md)")]
        return [Check("sms-sandbox", OK, f"out of the SMS sandbox; spend limit {limit} USD/month")]

    # ------------------------------------------------------------ encryption and alarms
    def check_topic_key(self) -> list[Check]:
        if self.local:
            return self._not_local("topic-key", "the twin's topics are not encrypted (no KMS)")
        topic = self.outputs.get("SesEventsTopicArn", "")
        key = self.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"].get("KmsMasterKeyId")
        if not key:
            return [Check("topic-key", WARN, f"{topic} is not encrypted")]
        if key.startswith("alias/aws/"):
            return [Check("topic-key", FAIL, f"{topic} uses the AWS-managed key {key}: SES cannot publish",
                          "deploy the current template (TopicsKey)")]
        kms = self.client("kms")
        key_id = kms.describe_key(KeyId=key)["KeyMetadata"]["KeyId"]
        policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
        missing = missing_grants(policy, SES_PUBLISHER, KEY_ACTIONS)
        if missing:
            return [Check("topic-key", FAIL, f"key {key_id} does not let {SES_PUBLISHER} use {', '.join(missing)}",
                          "deploy the current template (TopicsKey's policy)")]
        return [Check("topic-key", OK, f"key {key_id} lets SES publish to the events topic")]

    def check_alarm_subscription(self) -> list[Check]:
        if self.local:
            return self._not_local("alarm-subscription", "no CloudWatch alarms or e-mail delivery in the twin")
        topic = self.outputs.get("AlarmsTopicArn")
        if not topic:
            return [Check("alarm-subscription", FAIL, "the stack has no alarms topic (AlarmsTopicArn)")]
        subs = self.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        confirmed = [s["Endpoint"] for s in subs if s["SubscriptionArn"].startswith("arn:")]
        pending = [s["Endpoint"] for s in subs if s["SubscriptionArn"] == "PendingConfirmation"]
        if confirmed:
            return [Check("alarm-subscription", OK, f"alarms reach {', '.join(confirmed)}")]
        if pending:
            return [Check("alarm-subscription", FAIL, f"{', '.join(pending)} has not confirmed the subscription",
                          "click the link in the 'AWS Notification - Subscription Confirmation' e-mail")]
        return [Check("alarm-subscription", FAIL, "nobody is subscribed to the alarms topic",
                      "deploy with AlarmEmail=you@example.org, or subscribe another endpoint")]


def missing_grants(policy: dict, service: str, actions: tuple[str, ...]) -> list[str]:
    """Which of ``actions`` no Allow statement of a key policy grants to ``service``."""
    granted: set[str] = set()
    for st in policy.get("Statement", []):
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal", {})
        services = principal.get("Service", []) if isinstance(principal, dict) else []
        services = [services] if isinstance(services, str) else services
        if service not in services:
            continue
        acts = st.get("Action", [])
        granted.update([acts] if isinstance(acts, str) else acts)
    return [a for a in actions if a not in granted and "kms:*" not in granted]


def _http_status(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError) as exc:
        return f"no answer ({exc})"


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check that a deployment (or the twin) is ready to track and send")
    # Also accepted after the command (`polku doctor --stack NAME`); SUPPRESS keeps a global --stack.
    p.add_argument("--stack", metavar="NAME", default=argparse.SUPPRESS, help="the deployed stack to check")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(func=doctor_cmd)


def doctor_cmd(args) -> int:
    from polku.cli.errors import CliError
    from polku.cli.target import Target, TargetError

    try:
        target = Target.from_args(args)
    except TargetError as exc:
        raise CliError(str(exc)) from None
    checks = Doctor(target).run()
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        where = f"stack {args.stack}" if getattr(args, "stack", None) else f"the local twin ({target.endpoint_url})"
        print(f"polku doctor: {where}")
        for c in checks:
            print(f"  [{c.status:>4}] {c.name}: {c.detail}")
            if c.fix and c.status in (FAIL, WARN):
                print(f"         fix: {c.fix}")
        failed = sum(c.status == FAIL for c in checks)
        local = sum(c.status == NOT_LOCAL for c in checks)
        print(f"{len(checks)} checks: {failed} failed" + (f", {local} do not apply locally" if local else ""))
    return 1 if any(c.status == FAIL for c in checks) else 0

