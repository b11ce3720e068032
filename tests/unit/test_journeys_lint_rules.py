"""Lint catches what breaks journeys in production (issue #17, 4): each rule on a small bad
journey, each finding naming file, state and fix; the shipped journeys stay clean."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from polku.journeys.definition import Definition
from polku.journeys.lint import lint
from polku.journeys.lint_rules import EXECUTION_INPUT, choice_variable_findings, findings_for_file

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "templates"


def send(template="welcome", nxt="Done", result="$.hello_sent", **params):
    return {"Type": "Task", "Resource": "${SendFunctionArn}", "Parameters": {"template": template, **params},
            "ResultPath": result, "Next": nxt}


def choice(var, nxt="Done"):
    return {"Type": "Choice", "Choices": [{"Variable": var, "StringEquals": "x", "Next": nxt}], "Default": nxt}


def definition(states, start="A"):
    return Definition.parse(json.dumps({"Comment": "t", "StartAt": start, "States": states}))


def journey_folder(tmp_path, states, entry: str, start="A") -> Path:
    """A folder with one journey ``demo`` (its registry entry written from ``entry``)."""
    (tmp_path / "demo.asl.json").write_text(json.dumps({"Comment": "t", "StartAt": start, "States": states}))
    (tmp_path / "registry.yaml").write_text("version: 1\njourneys:\n  demo:\n    description: test\n" + entry)
    return tmp_path / "demo.asl.json"


def run_rules(path: Path, about: str | None = None):
    """The rules' findings for the journey at ``path``; ``about``: only those whose message says it
    (other rules may have something to say about these small journeys)."""
    fs = findings_for_file("demo.asl.json", path, path.read_text(), "registry.yaml", TEMPLATES)
    return [f for f in fs if about is None or about in f.message]


def only(fs, text):
    hits = [f for f in fs if text in f.message]
    assert hits, [str(f) for f in fs]
    return hits


TRIGGER = "    trigger: {event: form_submit, where: {properties.form_id: signup}}\n"


# ---------------------------------------------------------------- Choice on an unset variable
def test_choice_on_a_variable_no_earlier_state_sets_is_refused():
    fs = choice_variable_findings("j.asl.json", definition({"A": choice("$.opened.happened"),
                                                             "Done": {"Type": "Succeed"}}))
    f = only(fs, "reads $.opened.happened, which no earlier state sets")[0]
    assert (f.file, f.state, f.severity) == ("j.asl.json", "A", "error")
    assert "$.opened" in f.fix and "$.customer_id" in f.fix


def test_choice_on_a_result_set_only_after_it_names_the_late_setter():
    states = {"A": choice("$.hello_sent.status", "B"), "B": send(nxt="Done"), "Done": {"Type": "Succeed"}}
    f = only(choice_variable_findings("j.asl.json", definition(states)), "no earlier state sets")[0]
    assert f.state == "A" and "state B sets it but runs only after this Choice" in f.message


def test_choice_on_an_earlier_result_a_catch_result_or_the_run_input_is_clean():
    states = {"A": {**send(nxt="C"), "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.late",
                                                "Next": "C"}]},
              "C": {"Type": "Choice", "Choices": [
                  {"And": [{"Variable": "$.hello_sent.status", "StringEquals": "sent"},
                           {"Variable": "$.late", "IsPresent": True}], "Next": "Done"},
                  {"Variable": "$.trigger.properties.form_id", "StringEquals": "x", "Next": "Done"},
                  {"Variable": "$.variant", "StringEquals": "B", "Next": "Done"}], "Default": "Done"},
              "Done": {"Type": "Succeed"}}
    assert choice_variable_findings("j.asl.json", definition(states)) == []


def test_after_a_state_that_replaces_the_whole_data_nothing_is_claimed():
    states = {"A": {**send(nxt="C"), "ResultPath": "$"}, "C": choice("$.anything"), "Done": {"Type": "Succeed"}}
    assert choice_variable_findings("j.asl.json", definition(states)) == []


def test_execution_input_is_what_a_run_really_starts_with():
    """The keys runs.enter gives start_execution are the ones the rule trusts."""
    tree = ast.parse((REPO / "src" / "polku" / "journeys" / "runs.py").read_text())
    built = [n for n in ast.walk(tree) if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "execution_input" for t in n.targets)]
    assert len(built) == 1 and isinstance(built[0].value, ast.Dict)
    assert sorted(k.value for k in built[0].value.keys) == sorted(EXECUTION_INPUT)


# ---------------------------------------------------------------- a Wait longer than re-entry
def test_wait_longer_than_the_reentry_cooldown_is_refused(tmp_path):
    states = {"A": {"Type": "Wait", "Seconds": 3 * 86400, "Next": "B"},
              "B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                    "TimeoutSeconds": 30 * 3600, "Next": "Done"}, "Done": {"Type": "Succeed"}}
    path = journey_folder(tmp_path, states, TRIGGER + "    reentry: {policy: cooldown, cooldown_hours: 24}\n")
    fs = only(run_rules(path), "longer than the re-entry window of journey demo (cooldown 24 h)")
    assert [f.state for f in fs] == ["A", "B"]
    assert "waits 3 d" in fs[0].message and "cooldown_hours to at least 72" in fs[0].fix
    assert "registry.yaml" in fs[0].fix and "at most 86400 seconds" in fs[0].fix


def test_wait_within_the_cooldown_or_a_once_journey_is_clean(tmp_path):
    states = {"A": {"Type": "Wait", "Seconds": 86400, "Next": "Done"}, "Done": {"Type": "Succeed"}}
    path = journey_folder(tmp_path, states, TRIGGER + "    reentry: {policy: cooldown, cooldown_hours: 24}\n")
    assert run_rules(path, "re-entry window") == []
    states["A"]["Seconds"] = 30 * 86400
    path = journey_folder(tmp_path, states, TRIGGER + "    reentry: once\n")
    assert run_rules(path, "re-entry window") == []


# ---------------------------------------------------------------- templates for each step
def test_variant_template_that_does_not_exist_is_refused(tmp_path):
    states = {"A": send(nxt="Done"), "Done": {"Type": "Succeed"}}
    path = journey_folder(tmp_path, states, TRIGGER + "    split: {A: 0.5, B: 0.5}\n    variants:\n"
                          "      A: {}\n      B: {template: welcome_v2}\n")
    f = only(run_rules(path), "variant B's template 'welcome_v2' (registry variants) does not exist")[0]
    assert f.state == "A" and "variants.B.template" in f.fix and "templates/messages/welcome_v2/" in f.fix


def test_send_asking_for_a_channel_its_template_lacks_is_refused(tmp_path):
    states = {"A": send("order_confirmation", channel="sms"), "Done": {"Type": "Succeed"}}
    path = journey_folder(tmp_path, states, TRIGGER)
    f = only(run_rules(path), "asks for channel 'sms' but template 'order_confirmation' has no sms block")[0]
    assert f.state == "A" and "templates/messages/order_confirmation/" in f.fix
    states["A"]["Parameters"]["channel"] = "email"
    assert run_rules(journey_folder(tmp_path, states, TRIGGER), "template") == []


# ---------------------------------------------------------------- triggers no event satisfies
@pytest.mark.parametrize("entry, message, fix", [
    ("    trigger: {event: signup}\n", "trigger event 'signup' is not a tracking event type",
     "custom event with where: {properties.name: signup}"),
    ("    trigger: {event: form_submit, where: {properties.form: signup}}\n",
     "trigger filters on properties.form, which a form_submit event does not have", "properties.form_id"),
    ("    trigger: {event: purchase, where: {properties.revenue: {exists: false}}}\n",
     "trigger wants properties.revenue absent, but every purchase event has it", "remove the exists: false"),
    (TRIGGER + "    goal: [order]\n", "goal event 'order' is not a tracking event type", "purchase"),
    (TRIGGER + "    exit: [unsubscribed]\n", "exit event 'unsubscribed' is not a tracking event type", "unsubscribe"),
])
def test_trigger_no_event_can_satisfy_is_refused(tmp_path, entry, message, fix):
    path = journey_folder(tmp_path, {"A": {"Type": "Succeed"}}, entry)
    f = only(run_rules(path), message)[0]
    assert f.file == "registry.yaml" and "journey demo" in f.message and fix in f.fix and f.severity == "error"


def test_triggers_events_can_satisfy_are_clean(tmp_path):
    for entry in (TRIGGER, "    trigger: {event: custom, where: {properties.name: x, context.locale: fi}}\n",
                  "    trigger: {event: location, where: {properties.store_id: {exists: false}}}\n",
                  "    trigger: {schedule: daily, at: '08:00', profile: {birthday_today: true}}\n"):
        path = journey_folder(tmp_path, {"A": {"Type": "Succeed"}}, entry)
        assert run_rules(path, "trigger") + run_rules(path, "event") == [], entry


def test_docs_events_table_lists_the_types_and_properties_the_rule_uses():
    """docs/events.md's table of standard types is the schema the trigger rule checks against."""
    from polku.tracking.event_schema import EVENT_TYPES

    text = (REPO / "docs" / "events.md").read_text()
    table = text.split("## Standard types", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        cells = [re.sub(r"\([^)]*\)", "", c) for c in line.strip().strip("|").split("|")]
        rows[cells[0].strip().strip("`")] = set(re.findall(r"`([a-z_]+)`", cells[1] + cells[2]))
    assert set(rows) == set(EVENT_TYPES)
    for name, et in EVENT_TYPES.items():
        assert {p.name for p in et.props} == rows[name], name


# ---------------------------------------------------------------- through `polku journeys lint`
def test_lint_runs_the_rules_and_the_shipped_journeys_pass_them():
    assert [str(f) for f in lint(schema=False) if f.severity == "error"] == []


def test_lint_of_a_folder_reports_the_new_rules(tmp_path):
    states = {"A": choice("$.nothing"), "Done": {"Type": "Succeed"}}
    journey_folder(tmp_path, states, "    trigger: {event: signup}\n")
    messages = [f.message for f in lint([tmp_path], schema=False)]
    assert any("reads $.nothing" in m for m in messages) and any("'signup' is not a tracking" in m for m in messages)
