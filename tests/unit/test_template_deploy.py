"""What `sam deploy` to a real account needs and the twin never checks (issue #22)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from polku.twin.template import Resolver, Template, TemplateError, parameter_defaults, rule_failures

REPO = Path(__file__).resolve().parents[2]
DATA_TYPES = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret")
# Event sources through which Lambda invokes a function asynchronously.
ASYNC_EVENT_TYPES = {"SNS", "S3", "Schedule", "ScheduleV2", "CloudWatchEvent", "EventBridgeRule", "SES", "IoTRule"}
REAL = {"SenderEmail": "news@shop.fi", "SenderDomain": "shop.fi", "AllowedOrigins": "https://www.shop.fi",
        "SiteKeys": "shop-fi", "AlarmEmail": "ops@shop.fi"}


def _ref(value) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return value["Fn::GetAtt"][0]
    return None


def _samconfig_overrides(env: str) -> dict[str, str]:
    config = tomllib.loads((REPO / "samconfig.toml").read_text(encoding="utf-8"))
    text = config[env]["deploy"]["parameters"]["parameter_overrides"]
    return dict(item.split("=", 1) for item in shlex.split(text))


# ------------------------------------------------------------------ data survives delete and replace
def test_every_table_bucket_and_secret_keeps_its_data_on_delete_and_replace(template):
    data = {lid: r for lid, r in template.resources.items() if r["Type"] in DATA_TYPES}
    assert len(data) >= 12
    lost = {lid: (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) for lid, r in data.items()
            if (r.get("DeletionPolicy"), r.get("UpdateReplacePolicy")) != ("Retain", "Retain")}
    assert lost == {}


def test_no_secret_has_a_fixed_name(template):
    # A retained or recovering secret with the same name blocks a re-created stack.
    for lid, r in template.of_type("AWS::SecretsManager::Secret").items():
        name = r["Properties"].get("Name")
        assert name is None or "AWS::StackName" in str(name), lid


def test_teardown_is_documented_for_every_retained_resource(template):
    doc = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "## Teardown" in doc
    for rtype in DATA_TYPES:
        assert rtype.split("::")[1].lower() in doc.lower().replace("secrets manager", "secretsmanager"), rtype


# ------------------------------------------------------------------ asynchronous invocations
def _code_invokes_asynchronously(template: Template, lid: str, props: dict) -> bool:
    handler_module = props["Handler"].split(".")[0]
    code = (template.root / props["CodeUri"] / f"{handler_module}.py").read_text(encoding="utf-8")
    return 'InvocationType="Event"' in code  # e.g. the scheduler invokes its own segments


def _async_functions(template: Template) -> set[str]:
    found = set()
    for lid in template.of_type("AWS::Serverless::Function"):
        props = template.function_properties(lid)
        types = {ev["Type"] for ev in (props.get("Events") or {}).values()}
        if types & ASYNC_EVENT_TYPES or _code_invokes_asynchronously(template, lid, props):
            found.add(lid)
    return found


def test_every_asynchronously_invoked_function_has_a_dlq_or_on_failure_destination(template):
    async_functions = _async_functions(template)
    assert {"FeedbackFunction", "JourneySchedulerFunction", "TrainFunction", "AnalyticsExportFunction"} <= async_functions
    for lid in async_functions:
        props = template.function_properties(lid)
        dlq = props.get("DeadLetterQueue") or {}
        on_failure = (((props.get("EventInvokeConfig") or {}).get("DestinationConfig") or {}).get("OnFailure") or {})
        target = dlq.get("TargetArn") or on_failure.get("Destination")
        assert target, f"{lid} is invoked asynchronously and loses what fails after Lambda's retries"
        assert template.resources[_ref(target)]["Type"] in ("AWS::SQS::Queue", "AWS::SNS::Topic"), lid


def test_no_function_has_a_dead_letter_queue_nothing_can_reach(template):
    async_functions = _async_functions(template)
    unreachable = [lid for lid in template.of_type("AWS::Serverless::Function")
                   if template.function_properties(lid).get("DeadLetterQueue") and lid not in async_functions]
    assert unreachable == []


def test_stream_and_queue_sources_keep_their_failures(template):
    for lid in template.of_type("AWS::Serverless::Function"):
        for name, ev in (template.function_properties(lid).get("Events") or {}).items():
            p = ev.get("Properties", {})
            if ev["Type"] == "DynamoDB":
                assert p["DestinationConfig"]["OnFailure"]["Destination"], f"{lid}.{name}"
            if ev["Type"] == "SQS":
                queue = template.resources[_ref(p["Queue"])]
                assert "RedrivePolicy" in queue["Properties"], f"{lid}.{name}"


def test_every_dead_letter_queue_is_a_queue_something_sends_to(template):
    targets = set()
    for lid in template.of_type("AWS::Serverless::Function"):
        props = template.function_properties(lid)
        targets.add(_ref((props.get("DeadLetterQueue") or {}).get("TargetArn")))
        for ev in (props.get("Events") or {}).values():
            targets.add(_ref(((ev.get("Properties", {}).get("DestinationConfig") or {}).get("OnFailure") or {})
                             .get("Destination")))
    for q in template.of_type("AWS::SQS::Queue").values():
        targets.add(_ref((q["Properties"].get("RedrivePolicy") or {}).get("deadLetterTargetArn")))
    for rule in template.of_type("AWS::Events::Rule").values():
        targets.update(_ref(t["Arn"]) for t in rule["Properties"].get("Targets", []))
    dlqs = [lid for lid in template.of_type("AWS::SQS::Queue") if lid.endswith("DLQ")]
    assert "SendDLQ" not in dlqs  # Step Functions invokes Send synchronously: nothing could reach it
    assert [q for q in dlqs if q not in targets] == []


# ------------------------------------------------------------------ encrypted topics AWS services publish to
def _service_published_topics(template: Template) -> dict[str, str]:
    """Topic logical id -> the AWS service principal that publishes to it."""
    topics = {}
    for r in template.of_type("AWS::SES::ConfigurationSetEventDestination").values():
        topics[_ref(r["Properties"]["EventDestination"]["SnsDestination"]["TopicARN"])] = "ses.amazonaws.com"
    for r in template.of_type("AWS::CloudWatch::Alarm").values():
        for action in r["Properties"].get("AlarmActions", []) + r["Properties"].get("OKActions", []):
            topics[_ref(action)] = "cloudwatch.amazonaws.com"
    return topics


def test_no_topic_an_aws_service_publishes_to_uses_the_aws_managed_key(template):
    topics = _service_published_topics(template)
    assert "SesEventsTopic" in topics
    for topic, service in topics.items():
        key = template.resources[topic]["Properties"].get("KmsMasterKeyId")
        if key is None:
            continue  # unencrypted: allowed when the template says why
        assert not str(key).startswith("alias/aws/"), f"{topic}: the AWS-managed key cannot grant {service}"
        key_res = template.resources[_ref(key)]
        assert key_res["Type"] == "AWS::KMS::Key"
        grants = [s for s in key_res["Properties"]["KeyPolicy"]["Statement"]
                  if s["Effect"] == "Allow" and service in str(s["Principal"].get("Service"))]
        actions = {a for s in grants for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
        assert {"kms:GenerateDataKey*", "kms:Decrypt"} <= actions, f"{topic}: key policy does not let {service} publish"
    for lid, r in template.of_type("AWS::SNS::Topic").items():
        assert not str(r["Properties"].get("KmsMasterKeyId", "")).startswith("alias/aws/"), lid


def test_the_topics_key_stays_administrable_by_the_account(template):
    statements = template.resources["TopicsKey"]["Properties"]["KeyPolicy"]["Statement"]
    root = [s for s in statements if ":root" in str(s["Principal"].get("AWS")) and s["Action"] == "kms:*"]
    assert root, "without the account root in the key policy the key cannot be managed (or deleted)"


# ------------------------------------------------------------------ example values never reach prod
def test_prod_with_example_defaults_is_refused(template):
    failures = rule_failures(template, {"Stage": "prod"})
    assert len(failures) == len(REAL)
    for name in REAL:
        assert any(f.startswith(name) for f in failures), name


@pytest.mark.parametrize("name", sorted(REAL))
def test_prod_with_one_example_value_left_is_refused(template, name):
    values = {"Stage": "prod", **REAL}
    del values[name]
    assert [f.split()[0] for f in rule_failures(template, values)] == [name]


def test_prod_with_real_values_passes_and_dev_keeps_the_examples(template):
    assert rule_failures(template, {"Stage": "prod", **REAL}) == []
    assert rule_failures(template, {"Stage": "dev"}) == []


def test_samconfig_prod_sets_every_value_and_cannot_deploy_unedited(template):
    config = tomllib.loads((REPO / "samconfig.toml").read_text(encoding="utf-8"))
    prod = config["prod"]
    assert prod["global"]["parameters"]["region"] and prod["global"]["parameters"]["stack_name"] == "polku-prod"
    overrides = _samconfig_overrides("prod")
    assert overrides["Stage"] == "prod"
    assert set(REAL) <= set(overrides)
    assert set(overrides) <= set(template.parameters), "samconfig names a parameter the template lacks"
    failures = rule_failures(template, overrides)
    assert len(failures) == len(REAL), failures  # every REPLACE_ME is refused until replaced
    assert rule_failures(template, {**overrides, **REAL}) == []


# ------------------------------------------------------------------ the rest of a real deploy
def test_sender_identity_is_created_only_when_asked_and_its_dkim_records_are_output(template):
    assert template.resources["SenderIdentity"]["Condition"] == "CreateSenderIdentity"
    dkim = {k: v for k, v in template.outputs.items() if "Dkim" in k}
    assert len(dkim) == 3 and all(v["Condition"] == "CreateSenderIdentity" for v in dkim.values())
    for create, exists in (("true", True), ("false", False)):
        rv = Resolver(parameters=parameter_defaults(template, {"CreateEmailIdentity": create}),
                      conditions=template.conditions)
        assert rv.condition("CreateSenderIdentity") is exists


def test_send_reserved_concurrency_comes_from_a_parameter(template):
    value = template.resources["SendFunction"]["Properties"]["ReservedConcurrentExecutions"]
    for reserved, expected in (("0", ""), ("10", "10")):
        rv = Resolver(parameters={**parameter_defaults(template, {"SendReservedConcurrency": reserved}),
                                  "AWS::NoValue": ""}, conditions=template.conditions)
        assert str(rv.resolve(value)) == expected


def test_every_state_machine_logs_errors_without_execution_data_by_default(template):
    rv = Resolver(parameters=parameter_defaults(template), conditions=template.conditions)
    rv.attrs[("JourneysLogGroup", "Arn")] = "log-group-arn"
    for lid, r in template.of_type("AWS::Serverless::StateMachine").items():  # the stack's own; journeys below
        logging = rv.resolve(r["Properties"]["Logging"])
        assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False, lid
        assert logging["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"] == "log-group-arn"


def test_every_journey_logs_errors_without_execution_data_by_default(template):
    """Every journey is published with the JourneyLogging output (polku.journeys.publish)."""
    import json

    for data, included in (("false", False), ("true", True)):
        rv = Resolver(parameters=parameter_defaults(template, {"StepFunctionsLogExecutionData": data}),
                      conditions=template.conditions)
        rv.attrs[("JourneysLogGroup", "Arn")] = "log-group-arn"
        logging = json.loads(rv.resolve(template.outputs["JourneyLogging"]["Value"]))
        assert logging["level"] == "ERROR" and logging["includeExecutionData"] is included
        assert logging["destinations"] == [{"cloudWatchLogsLogGroup": {"logGroupArn": "log-group-arn"}}]


def test_resolver_conditions_and_if():
    rv = Resolver(parameters={"A": "x"}, conditions={
        "IsX": {"Fn::Equals": [{"Ref": "A"}, "x"]}, "NotX": {"Fn::Not": [{"Condition": "IsX"}]},
        "Both": {"Fn::And": [{"Condition": "IsX"}, {"Condition": "NotX"}]}})
    assert rv.condition("IsX") and not rv.condition("NotX") and not rv.condition("Both")
    assert rv.resolve({"Fn::If": ["NotX", "a", "b"]}) == "b"
    with pytest.raises(TemplateError, match="Nope"):
        rv.condition("Nope")


def test_recommend_layer_is_built_by_its_makefile_for_x86_64(template):
    layer = template.resources["RecommendLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (template.root / layer["Properties"]["ContentUri"] / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^X86_LEVEL := x86-64-v3$", makefile, re.M)
    assert "-march=$(X86_LEVEL)" in makefile and "native" not in makefile.split("ANNOY_COMPILER_ARGS :=")[1].split("\n")[0]
