"""Lint refuses a journey that could lose a message deferred for quiet hours."""

from tests.unit.test_journeys_lint import RETRY, findings, only


def send(nxt, result="$.hello_sent"):
    s = {"Type": "Task", "Resource": "${SendFunctionArn}", "Parameters": {"template": "welcome"},
         "Retry": RETRY, "Next": nxt}
    if result is not None:
        s["ResultPath"] = result
    return s


def handled(rp="$.hello_sent", wait_next="A", wait_path=None):
    return {
        "Deferred?": {"Type": "Choice", "Choices": [{"Variable": f"{rp}.status", "StringEquals": "deferred",
                                                      "Next": "WaitForSendAt"}], "Default": "Done"},
        "WaitForSendAt": {"Type": "Wait", "TimestampPath": wait_path or f"{rp}.send_at", "Next": wait_next},
        "Done": {"Type": "Succeed"},
    }


def test_send_that_waits_for_send_at_and_tries_again_is_clean():
    assert findings({"A": send("Deferred?"), **handled()}) == []


def test_send_whose_result_is_not_checked_for_deferred_is_refused():
    f = only(findings({"A": send("Done"), "Done": {"Type": "Succeed"}}), "not checked for deferred")[0]
    assert f.state == "A" and "$.hello_sent.send_at" in f.fix and f.severity == "error"


def test_send_without_a_result_is_refused():
    f = only(findings({"A": send("Done", result=None), "Done": {"Type": "Succeed"}}), "keeps no result")[0]
    assert f.state == "A"


def test_deferred_branch_must_wait_for_send_at_and_return_to_the_same_send():
    fs = findings({"A": send("Deferred?"), **handled(wait_next="Done")})
    assert only(fs, "does not wait until $.hello_sent.send_at")[0].state == "A"
    fs = findings({"A": send("Deferred?"), **handled(wait_path="$.hello_sent.when")})
    assert only(fs, "does not wait until")[0].state == "A"


def test_a_choice_on_something_else_is_not_a_deferral_check():
    states = {"A": send("Deferred?"), **handled()}
    states["Deferred?"]["Choices"][0]["StringEquals"] = "skipped"
    assert only(findings(states), "not checked for deferred")[0].state == "A"


def test_task_token_timeout_path_must_come_from_a_bounding_step():
    wait = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "${WaitForEventFunctionArn}", "Payload": {"event_type": "purchase"}},
            "Retry": RETRY, "TimeoutSecondsPath": "$.window.seconds", "Next": "Done"}
    fs = findings({"A": wait, "Done": {"Type": "Succeed"}})
    assert only(fs, "unbounded wait: $.window.seconds")[0].state == "A"
    from tests.unit.test_journeys_lint import ctx
    from polku.journeys.lint import definition_findings
    import json
    c = ctx()
    c.step_actions.add("seconds_until")
    c.bounded_actions["seconds_until"] = "seconds"
    states = {"S": {"Type": "Task", "Resource": "${JourneyStepFunctionArn}", "Parameters": {"action": "seconds_until"},
                    "ResultPath": "$.window", "Retry": RETRY, "Next": "A"}, "A": wait, "Done": {"Type": "Succeed"}}
    assert definition_findings("j.asl.json", json.dumps({"Comment": "c", "StartAt": "S", "States": states}), c) == []
