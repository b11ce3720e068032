"""Operations (#16 point 5): every queue, function and journey has its alarm; logs expire; one dashboard."""

from __future__ import annotations

import json
import re

import pytest

from polku.twin.template import Resolver, parameter_defaults


def _alarms(template) -> list[dict]:
    return [r["Properties"] for r in template.of_type("AWS::CloudWatch::Alarm").values()]


def _watched(template, namespace: str, metric: str, dimension: str) -> set[str]:
    """Logical ids the alarms on ``namespace/metric`` watch through ``dimension`` (Ref or GetAtt)."""
    found = set()
    for a in _alarms(template):
        if a["Namespace"] == namespace and a["MetricName"] == metric:
            for d in a.get("Dimensions", []):
                if d["Name"] == dimension:
                    v = d["Value"]
                    found.add(v["Ref"] if "Ref" in v else v.get("Fn::GetAtt", [None])[0])
    return found


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_errors_and_a_throttles_alarm(template, metric):
    functions = set(template.of_type("AWS::Serverless::Function"))
    assert functions - _watched(template, "AWS/Lambda", metric, "FunctionName") == set()


def test_every_dead_letter_and_failures_queue_alarms_when_anything_waits(template):
    queues = set(template.of_type("AWS::SQS::Queue"))
    failure_queues = {q for q in queues if q.endswith("DLQ")} | {"JourneyFailuresQueue"}
    watched = _watched(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
    assert failure_queues - watched == set()
    for a in _alarms(template):
        if a["MetricName"] == "ApproximateNumberOfMessagesVisible":
            assert (a["Threshold"], a["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
    # the work queue (enrolment chunks) alarms when a message ages instead
    others = queues - failure_queues
    assert others - _watched(template, "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName") == set()


def test_every_journey_alarms_on_failed_executions(template):
    """Journeys are published, not declared: the failure rule matches every state machine of the
    stage by its name prefix and feeds the failures queue, whose alarm notifies."""
    machines = set(template.of_type("AWS::Serverless::StateMachine"))  # the stack's own (not journeys)
    assert machines - _watched(template, "AWS/States", "ExecutionsFailed", "StateMachineArn") == set()
    rule = template.resources["JourneyFailureRule"]["Properties"]
    detail = rule["EventPattern"]["detail"]
    assert set(detail["status"]) == {"FAILED", "TIMED_OUT"}
    (prefix,) = detail["stateMachineArn"]
    assert prefix["prefix"]["Fn::Sub"].endswith(":stateMachine:polku-${Stage}-")
    assert prefix["prefix"] == template.outputs["StateMachinePrefix"]["Value"]  # the names publish gives
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["JourneyFailuresQueue", "Arn"]}
    assert "JourneyFailuresQueue" in _watched(template, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")


def test_api_5xx_and_ses_reputation_alarms_warn_before_aws_reviews(template):
    by_metric = {a["MetricName"]: a for a in _alarms(template)}
    assert by_metric["5XXError"]["Namespace"] == "AWS/ApiGateway"
    # SES reviews an account at a 5% bounce rate and a 0.1% complaint rate.
    assert 0 < by_metric["Reputation.BounceRate"]["Threshold"] < 0.05
    assert 0 < by_metric["Reputation.ComplaintRate"]["Threshold"] < 0.001


def test_every_alarm_notifies_the_alarms_topic_and_is_named_by_stage(template):
    names = set()
    for a in _alarms(template):
        assert a["AlarmActions"] == [{"Ref": "AlarmsTopic"}], a["AlarmName"]
        assert a["AlarmName"]["Fn::Sub"].startswith("polku-${Stage}-")
        names.add(a["AlarmName"]["Fn::Sub"])
    assert len(names) == len(_alarms(template))


def test_the_alarm_email_subscribes_only_when_given(template):
    sub = template.resources["AlarmsEmailSubscription"]
    assert sub["Condition"] == "HasAlarmEmail" and sub["Properties"]["TopicArn"] == {"Ref": "AlarmsTopic"}
    for email, subscribed in (("", False), ("ops@shop.fi", True)):
        rv = Resolver(parameters=parameter_defaults(template, {"AlarmEmail": email}), conditions=template.conditions)
        assert rv.condition("HasAlarmEmail") is subscribed


def test_every_function_keeps_logs_for_the_retention_parameter(template):
    groups = {}
    for r in template.of_type("AWS::Logs::LogGroup").values():
        name = r["Properties"]["LogGroupName"]["Fn::Sub"]
        m = re.fullmatch(r"/aws/lambda/\$\{(\w+)\}", name)
        if m:
            groups[m.group(1)] = r["Properties"]["RetentionInDays"]
    functions = set(template.of_type("AWS::Serverless::Function"))
    assert set(groups) == functions
    assert all(v == {"Ref": "LogRetentionDays"} for v in groups.values())


def test_one_dashboard_shows_every_function_queue_and_journey(template):
    (dash,) = template.of_type("AWS::CloudWatch::Dashboard").values()
    body = dash["Properties"]["DashboardBody"]["Fn::Sub"]
    rv = Resolver(parameters={**parameter_defaults(template), "AWS::Region": "eu-west-1"})
    for lid in template.resources:
        rv.refs[lid] = f"<{lid}>"
        rv.attrs[(lid, "QueueName")] = f"<{lid}.QueueName>"
    widgets = json.loads(rv.resolve({"Fn::Sub": body}))["widgets"]
    shown = json.dumps(widgets)
    for lid in list(template.of_type("AWS::Serverless::Function")) + list(template.of_type("AWS::Serverless::StateMachine")):
        assert f"<{lid}>" in shown, lid
    # every published journey: a metric search over the stage's state machines
    assert "SEARCH('{AWS/States,StateMachineArn} MetricName=\\\"ExecutionsFailed\\\" polku-dev-'" in shown
    for q in template.of_type("AWS::SQS::Queue"):
        if q != "EnrollmentQueue":
            assert f"<{q}.QueueName>" in shown, q


def test_a_message_the_provider_accepted_but_the_log_missed_alarms(template):
    """Send emits MessageOutcomeNotRecorded (Powertools, service polku) when it cannot record a sent
    message; an alarm watches exactly that metric in the namespace the functions write to."""
    import inspect

    from polku.messaging import message_log

    assert 'name="MessageOutcomeNotRecorded"' in inspect.getsource(message_log)
    env = template.function_globals()["Environment"]["Variables"]
    [alarm] = [a for a in _alarms(template) if a["MetricName"] == "MessageOutcomeNotRecorded"]
    assert alarm["Namespace"] == env["POWERTOOLS_METRICS_NAMESPACE"]
    assert alarm["Dimensions"] == [{"Name": "service", "Value": env["POWERTOOLS_SERVICE_NAME"]}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
