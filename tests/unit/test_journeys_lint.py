"""Lint catches each broken definition with the state named (and the real library is clean)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from polku.journeys.lint import Context, default_context, definition_findings, lint

REPO = Path(__file__).resolve().parents[2]
RETRY = [{"ErrorEquals": ["SendInputError"], "MaxAttempts": 0},  # a Send's retry policy (see _send_retry_findings)
         {"ErrorEquals": ["MessageInProgress"], "IntervalSeconds": 30, "MaxAttempts": 11, "BackoffRate": 1.0},
         {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}]


def ctx(templates=("welcome",)):
    return Context(substitutions={"SendFunctionArn", "JourneyStepFunctionArn", "WaitForEventFunctionArn",
                                  "OfferFunctionArn"},
                   step_actions={"exit", "choose_send_time", "event_since"},
                   bounded_actions={"choose_send_time": "wait_seconds"}, templates=set(templates))


def send(template="welcome", nxt="Done"):
    return {"Type": "Task", "Resource": "${SendFunctionArn}", "Parameters": {"template": template},
            "Retry": RETRY, "Next": nxt}


def doc(states, start="A"):
    return json.dumps({"Comment": "test journey", "StartAt": start, "States": states})


def findings(states, **kw):
    return definition_findings("j.asl.json", doc(states), ctx(**kw))


def only(fs, text):
    hits = [f for f in fs if text in f.message]
    assert hits, [str(f) for f in fs]
    return hits


def test_missing_next_target_is_named():
    fs = findings({"A": send(nxt="Nowhere"), "Done": {"Type": "Succeed"}})
    f = only(fs, "'Nowhere' does not exist")[0]
    assert f.state == "A" and "add a state named 'Nowhere'" in f.fix


def test_choice_without_default():
    fs = findings({"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True, "Next": "Done"}]},
                   "Done": {"Type": "Succeed"}})
    assert only(fs, "Choice has no Default")[0].state == "A"


def test_unknown_substitution():
    s = send()
    s["Resource"] = "${SendFunctionArnn}"
    fs = findings({"A": s, "Done": {"Type": "Succeed"}})
    f = only(fs, "unknown substitution ${SendFunctionArnn}")[0]
    assert f.state == "A" and "${SendFunctionArn}" in f.fix


def test_unknown_template():
    fs = findings({"A": send(template="welcom"), "Done": {"Type": "Succeed"}})
    assert only(fs, "unknown template 'welcom'")[0].state == "A"


def test_unreachable_state():
    fs = findings({"A": send(), "Done": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}})
    assert only(fs, "unreachable")[0].state == "Orphan"


@pytest.mark.parametrize("wait", [
    {"Type": "Wait", "SecondsPath": "$.whenever", "Next": "Done"},
    {"Type": "Wait", "Seconds": 400 * 86400, "Next": "Done"},
])
def test_unbounded_wait(wait):
    fs = findings({"A": wait, "Done": {"Type": "Succeed"}})
    assert only(fs, "Wait" if "Seconds" in wait else "unbounded wait")[0].state == "A"


def test_task_token_wait_without_timeout_is_unbounded():
    w = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
         "Parameters": {"FunctionName": "${WaitForEventFunctionArn}", "Payload": {"event_type": "email_click"}},
         "Retry": RETRY, "Next": "Done"}
    fs = findings({"A": w, "Done": {"Type": "Succeed"}})
    assert only(fs, "task-token wait without TimeoutSeconds")[0].state == "A"


def test_bounded_seconds_path_from_send_time_step_is_fine():
    fs = findings({
        "A": {"Type": "Task", "Resource": "${JourneyStepFunctionArn}", "Parameters": {"action": "choose_send_time"},
              "ResultPath": "$.send_time", "Retry": RETRY, "Next": "W"},
        "W": {"Type": "Wait", "SecondsPath": "$.send_time.wait_seconds", "Next": "Done"},
        "Done": {"Type": "Succeed"}})
    assert fs == []


def test_endless_loop_task_without_retry_and_unknown_step():
    fs = findings({
        "A": {"Type": "Task", "Resource": "${JourneyStepFunctionArn}", "Parameters": {"action": "teleport"}, "Next": "B"},
        "B": {"Type": "Wait", "Seconds": 60, "Next": "A"}})
    assert {f.state for f in only(fs, "no path from this state reaches an end")} == {"A", "B"}
    assert only(fs, "Task has no Retry")[0].state == "A"
    assert only(fs, "unknown step action 'teleport'")[0].state == "A"


def test_the_library_is_clean_including_schema_and_registry():
    fs = lint()
    assert [str(f) for f in fs if f.severity == "error"] == []


def test_registry_and_files_must_agree(tmp_path):
    folder = tmp_path / "statemachines"
    folder.mkdir()
    (folder / "welcome.asl.json").write_text((REPO / "statemachines" / "welcome.asl.json").read_text())
    (folder / "extra.asl.json").write_text((REPO / "statemachines" / "welcome.asl.json").read_text())
    (folder / "registry.yaml").write_text(
        "version: 1\njourneys:\n  welcome:\n    description: d\n    trigger: {event: form_submit}\n"
        "  ghost:\n    description: d\n    trigger: {event: x}\n")
    fs = lint([folder], root=REPO, schema=False, ctx=default_context(REPO))
    text = "\n".join(map(str, fs))
    assert "extra.asl.json: error: definition is not in registry.yaml" in text
    assert "journey ghost: file ghost.asl.json does not exist" in text


def test_schema_check_uses_asl_validator(tmp_path):
    bad = tmp_path / "bad.asl.json"
    bad.write_text(json.dumps({"Comment": "x", "StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}))
    fs = lint([bad], root=REPO, schema=True, ctx=ctx())
    assert any(f.message.startswith("ASL schema:") and "B" in f.message for f in fs)
    assert any(f.state == "A" and "'B' does not exist" in f.message for f in fs)


def test_cli_exits_1_and_names_file_state_and_fix(tmp_path):
    bad = tmp_path / "bad.asl.json"
    bad.write_text(doc({"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "BooleanEquals": True,
                                                           "Next": "Done"}]}, "Done": {"Type": "Succeed"}}))
    proc = subprocess.run([sys.executable, "-m", "polku.cli.main", "journeys", "lint", str(bad)],
                          capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 1
    assert 'bad.asl.json: state "A": error: Choice has no Default -- fix: add "Default"' in proc.stdout
    ok = subprocess.run([sys.executable, "-m", "polku.cli.main", "journeys", "lint"], capture_output=True, text=True,
                        cwd=REPO)
    assert ok.returncode == 0, ok.stdout


def test_templates_come_from_the_messaging_template_store():
    ctx_ = default_context(REPO)
    assert ctx_.templates is not None and {"welcome", "abandoned_cart", "win_back"} <= ctx_.templates
    assert {"SendFunctionArn", "OfferFunctionArn"} <= ctx_.substitutions
