"""docs/cost.md is what benchmarks/cost_model.py writes from the code now, and its numbers follow
the definitions: a state added to a journey, a function's memory, the campaign's batch size."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cm():
    sys.path.insert(0, str(REPO / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_cost_model", REPO / "benchmarks" / "cost_model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def facts():
    return json.loads((REPO / "benchmarks" / "cost_calls.json").read_text())


@pytest.fixture
def folder(tmp_path):
    """A copy of statemachines/ to change."""
    out = tmp_path / "statemachines"
    shutil.copytree(REPO / "statemachines", out)
    return out


def _journey(cm, facts, folder, name, template=None):
    stack = cm.read_stack(template or cm.TEMPLATE)
    return next(j for j in cm.journeys(stack, facts, folder) if j.name == name)


def test_docs_cost_md_is_what_the_script_writes_now(cm):
    assert (REPO / "docs" / "cost.md").read_text() == cm.render(), \
        "docs/cost.md is stale: run .venv/bin/python benchmarks/cost_model.py"


def test_check_mode_fails_on_a_stale_document(cm, tmp_path, monkeypatch):
    stale = tmp_path / "cost.md"
    stale.write_text("# old figures\n")
    monkeypatch.setattr(cm, "DOC", stale)
    assert cm.main(["--check"]) == 1
    assert cm.main([]) == 0 and cm.main(["--check"]) == 0
    assert stale.read_text() == cm.render()


def test_a_wait_added_to_a_journey_raises_its_transitions_and_cost(cm, facts, folder):
    before = _journey(cm, facts, folder, "welcome")
    path = folder / "welcome.asl.json"
    doc = json.loads(path.read_text())
    doc["States"]["Settle"] = {"Type": "Wait", "Seconds": 600, "Next": doc["StartAt"]}
    doc["StartAt"] = "Settle"
    path.write_text(json.dumps(doc))
    after = _journey(cm, facts, folder, "welcome")
    assert after.typical.transitions == before.typical.transitions + 1
    assert after.short.transitions == before.short.transitions + 1
    assert after.long.transitions == before.long.transitions + 1
    assert after.usd == pytest.approx(before.usd + cm.price("sfn_transition"))
    assert after.typical.states[0] == "Settle"


def test_a_send_on_the_no_reaction_path_adds_lambda_dynamodb_and_ses(cm, facts, folder):
    before = _journey(cm, facts, folder, "location_offer")
    assert "e-mail" not in " ".join(ln.what for ln in before.lines)
    path = folder / "location_offer.asl.json"
    doc = json.loads(path.read_text())
    completed = doc["States"]["StoreOpen?"]["Default"]
    doc["States"]["StoreOpen?"]["Default"] = "Consolation"
    doc["States"]["Consolation"] = {"Type": "Task", "Resource": "${SendFunctionArn}",
                                    "Parameters": {"template": "welcome"}, "Next": completed}
    path.write_text(json.dumps(doc))
    after = _journey(cm, facts, folder, "location_offer")
    assert after.typical.transitions == before.typical.transitions + 1
    assert any(ln.what == "1 e-mail(s) by SES" for ln in after.lines)
    assert after.usd - before.usd > cm.price("sfn_transition") + cm.price("ses_email")


def test_the_functions_memory_comes_from_the_template(cm, facts, tmp_path):
    text = (REPO / "template.yaml").read_text()
    marker = "      CodeUri: functions/send/\n      Handler: handler.lambda_handler\n"
    assert marker in text, "the Send function's CodeUri/Handler lines moved: update this test"
    bigger = tmp_path / "template.yaml"
    bigger.write_text(text.replace(marker, marker + "      MemorySize: 2048\n", 1))
    base, big = cm.read_stack(cm.TEMPLATE), cm.read_stack(bigger)
    assert base.memory["SendFunction"] == 256 and big.memory["SendFunction"] == 2048
    fan = cm.campaign_fanout(cm.STATEMACHINES, base)
    per = lambda stack: sum(ln.usd for ln in cm.campaign_lines(fan, stack, facts))  # noqa: E731
    assert per(big) > per(base)


def test_per_event_functions_and_journey_tasks_are_read_from_the_template(cm):
    stack = cm.read_stack()
    assert stack.per_event == ["JourneyTriggerFunction", "ProfileUpdaterFunction", "TrackApiFunction"]
    assert stack.substitutions["${SendFunctionArn}"] == "SendFunction"
    assert stack.substitutions["${WaitForEventFunctionArn}"] == "WaitForEventFunction"
    assert stack.tables["MessagesTable"]["gsis"] == 2 and stack.tables["ProfilesTable"]["gsis"] == 0


SMALL = {
    "StartAt": "Send1",
    "States": {
        "Send1": {"Type": "Task", "Resource": "${SendFunctionArn}", "Next": "Deferred?",
                  "Retry": [{"ErrorEquals": ["States.TaskFailed"], "MaxAttempts": 4}]},
        "Deferred?": {"Type": "Choice", "Choices": [{"Variable": "$.s", "StringEquals": "deferred", "Next": "WaitSendAt"}],
                      "Default": "WaitClick"},
        "WaitSendAt": {"Type": "Wait", "TimestampPath": "$.at", "Next": "Send1"},
        "WaitClick": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                      "Parameters": {"FunctionName": "${WaitForEventFunctionArn}"}, "TimeoutSeconds": 259200,
                      "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Pause"},
                                {"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
                      "Next": "Goal"},
        "Pause": {"Type": "Wait", "Seconds": 86400, "Next": "Send2"},
        "Send2": {"Type": "Task", "Resource": "${SendFunctionArn}", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Goal": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    },
}


def test_paths_are_counted_as_step_functions_bills_them(cm):
    from polku.journeys.definition import Definition

    d = Definition.parse(json.dumps(SMALL))
    assert cm.shortest(d).states == ["Send1", "Deferred?", "WaitClick", "Goal"]
    assert cm.no_reaction(d).states == ["Send1", "Deferred?", "WaitClick", "Pause", "Send2", "Done"]
    assert cm.longest(d).transitions == 6  # the error catch (Failed) is not a path
    assert cm.smallest_loop(d) == 3  # a deferral: Choice, Wait, Send again
    assert cm.retries_at_most(d, cm.no_reaction(d)) == 4
    assert cm.longest_wait_s(d) == 259200 and cm.dynamic_wait(d)
    tasks = cm.tasks_on(d, cm.no_reaction(d), cm.read_stack())
    assert [t.function for t in tasks] == ["SendFunction", "WaitForEventFunction", "SendFunction"]


def test_a_no_reaction_path_that_loops_is_refused_naming_the_state(cm):
    from polku.journeys.definition import Definition

    loop = {"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "Next": "B"},
                                       "B": {"Type": "Pass", "Next": "A"}}}
    with pytest.raises(ValueError, match="loops at A"):
        cm.no_reaction(Definition.parse(json.dumps(loop)))


def _campaign(batch: int | None, child_type: str = "EXPRESS", per_item: bool = True) -> dict:
    send = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${SendFunctionArn}", "Payload.$": "$"}, "End": True}
    child = ({"StartAt": "EachRecipient", "States": {"EachRecipient": {
        "Type": "Map", "ItemsPath": "$.Items", "ItemProcessor": {"StartAt": "Send", "States": {"Send": send}},
        "End": True}}} if per_item else {"StartAt": "SendBatch", "States": {"SendBatch": send}})
    fan = {"Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                                         "ReaderConfig": {"InputType": "JSON"}, "Parameters": {"Bucket": "b", "Key": "k"}},
           "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": child_type}, **child},
           "End": True}
    if batch:
        fan["ItemBatcher"] = {"MaxItemsPerBatch": batch}
    return {"StartAt": "Audience", "States": {"Audience": {"Type": "Pass", "Next": "Fanout"}, "Fanout": fan}}


def test_the_campaign_file_is_read_when_it_exists(cm, facts, folder):
    stack = cm.read_stack()
    shipped = cm.campaign_path(folder)
    if shipped.exists():
        shipped.unlink()
    modelled = cm.campaign_fanout(folder, stack)
    assert modelled.source.startswith("modelled") and modelled.sends_per_message() == 1
    shipped.parent.mkdir(exist_ok=True)
    shipped.write_text(json.dumps(_campaign(50)))
    fan = cm.campaign_fanout(folder, stack)
    assert (fan.batch, fan.child_type, fan.parent_states) == (50, "EXPRESS", 2)
    assert fan.source.endswith(cm.CAMPAIGN_FILE) and not fan.child_waits
    assert (fan.child_states_per_batch, fan.child_states_per_item, fan.sends_per_message()) == (1, 1, 1)
    per = lambda f: sum(ln.usd for ln in cm.campaign_lines(f, stack, facts))  # noqa: E731
    shipped.write_text(json.dumps(_campaign(500)))
    assert per(cm.campaign_fanout(folder, stack)) < per(fan)  # fewer children per message
    shipped.write_text(json.dumps(_campaign(50, "STANDARD")))
    standard = cm.campaign_fanout(folder, stack)
    assert per(standard) > per(fan)  # a Standard child pays every state per recipient
    shipped.write_text(json.dumps(_campaign(50, per_item=False)))
    batched = cm.campaign_fanout(folder, stack)
    assert (batched.send_per_batch, batched.send_per_item, batched.sends_per_message()) == (1, 0, 1 / 50)
    # another Distributed Map before it whose children do not send (e.g. revoking offers) is not the fan-out
    doc = _campaign(50)
    revoke = json.loads(json.dumps(doc["States"]["Fanout"]))
    revoke["ItemBatcher"] = {"MaxItemsPerBatch": 7}
    revoke["ItemProcessor"].update({"StartAt": "Revoke", "States": {"Revoke": {
        "Type": "Task", "Resource": "${OfferFunctionArn}", "End": True}}})
    revoke["Next"] = "Fanout"
    revoke.pop("End")
    doc["States"] = {"Revoke": revoke, **doc["States"]}
    doc["States"]["Audience"]["Next"] = "Revoke"
    shipped.write_text(json.dumps(doc))
    assert cm.campaign_fanout(folder, stack).batch == 50


def test_the_shipped_campaign_is_the_one_priced(cm):
    """docs/cost.md prices statemachines/campaigns/campaign.asl.json once it is there."""
    fan = cm.campaign_fanout(cm.STATEMACHINES, cm.read_stack())
    if not cm.campaign_path(cm.STATEMACHINES).exists():
        pytest.skip("no campaign definition shipped yet")
    assert fan.source == str(cm.campaign_path(cm.STATEMACHINES).relative_to(REPO))
    assert fan.sends_per_message() > 0, "the campaign's children run no Send the model can see"


def test_a_campaign_file_without_a_distributed_map_is_refused(cm, folder):
    cm.campaign_path(folder).parent.mkdir(exist_ok=True)
    cm.campaign_path(folder).write_text(json.dumps({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}))
    with pytest.raises(ValueError, match="DISTRIBUTED"):
        cm.campaign_fanout(folder, cm.read_stack())
