"""A journey is its ASL file and its registry entry (#17 points 1-2).

Published through the Step Functions API (polku.journeys.publish) into the running twin - the
same code path the twin uses at start and `polku journeys publish` uses against a stack: a new
version behind the alias `live`; running executions finish on their version, new entries start
on the alias; rollback points the alias back. The twin's versions and aliases are
polku.twin.sfn_versions (moto 5.2.5 stores them but cannot run them).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from waiting import wait_for  # tests/integration/waiting.py

from polku.cli.main import main as polku
from polku.journeys import publish, registry

REPO = Path(__file__).resolve().parents[2]
SITE_KEY = "demo-shop"


def _uid() -> str:
    return uuid.uuid4().hex[:8]


def _stack(twin) -> publish.JourneyStack:
    return publish.JourneyStack.from_outputs(twin.outputs)


@pytest.fixture
def restore_registry(twin):
    """The session twin's published registry is the repository's again after the test."""
    yield
    publish.publish_registry(twin.client("s3"), (REPO / "statemachines" / "registry.yaml").read_text(encoding="utf-8"),
                             _stack(twin))


def _clone_statemachines(tmp_path: Path) -> Path:
    folder = tmp_path / "statemachines"
    shutil.copytree(REPO / "statemachines", folder)
    return folder


def _add_journey(folder: Path, name: str, source: str, marker: str) -> None:
    """What a marketer does, and nothing else: copy an ASL file, add its registry entry."""
    shutil.copy(folder / f"{source}.asl.json", folder / f"{name}.asl.json")
    with (folder / "registry.yaml").open("a", encoding="utf-8") as f:
        f.write(f"""
  {name}:
    description: A copy of {source} started by a custom event.
    trigger:
      event: custom
      where: {{properties.name: {marker}}}
    exit: [unsubscribe]
    reentry: once
""")


def _wait(what, predicate, seconds: float = 30.0):
    value = wait_for(predicate, seconds)
    assert value, f"{what} did not happen within {seconds} s of real time"
    return value


def test_a_copied_asl_and_its_registry_entry_is_a_journey(twin, tmp_path, capsys, restore_registry):
    name, marker = f"copy_{_uid()}", f"m-{_uid()}"
    folder = _clone_statemachines(tmp_path)
    _add_journey(folder, name, "welcome", marker)

    # lint accepts it (schema, rules, registry agreement)
    assert polku(["journeys", "lint", str(folder)]) == 0, capsys.readouterr().out
    assert "0 error(s)" in capsys.readouterr().err

    # simulate runs it (its own twin, in a separate process, as a marketer would)
    timeline = tmp_path / "timeline.jsonl"
    timeline.write_text("\n".join(json.dumps(line) for line in [
        {"type": "identify", "customer_id": "ann", "ts": "2026-01-05T09:00:00Z",
         "properties": {"email": "ann@example.com", "consents": {"email": True}, "time_zone": "Europe/Helsinki"}},
        {"type": "custom", "customer_id": "ann", "ts": "2026-01-05T10:00:00Z", "properties": {"name": marker}},
    ]) + "\n")
    proc = subprocess.run([str(Path(sys.executable).parent / "polku"), "journeys", "simulate", name,
                           "--statemachines", str(folder), "--timeline", str(timeline)],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    story = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {h["journey"] for h in story} == {name}
    assert [h["kind"] for h in story][0] == "entered"
    assert any(h["kind"] == "message" and h.get("template") == "welcome" for h in story), story

    # published into the running twin (no restart) through the CLI, and a real event starts it
    sfn = twin.client("stepfunctions")
    assert polku(["--endpoint", twin.api_url, "journeys", "publish", name, "--statemachines", str(folder)]) == 0
    journey = registry.load(folder / "registry.yaml").get(name)
    version = publish.live_version(sfn, journey, _stack(twin))
    assert version == journey.state_machine_arn(_stack(twin).prefix) + ":1"
    cid = f"pub-{_uid()}"
    from polku.data.profiles import ProfileModel

    ProfileModel(cid, traits={"email": f"{cid}@example.com", "first_name": "Pub"},  # a customer e-mail reaches
                 consents={"email": {"granted": True}}, time_zone="UTC").save()
    from polku.tracking.trust_secrets import server_key_for

    # the shop's backend reports the customer's event (the server API names customers)
    r = requests.post(f"{twin.api_url}/v1/server/events", data=json.dumps({"site_key": SITE_KEY, "events": [
        {"event_id": f"e-{_uid()}", "type": "custom", "customer_id": cid, "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
         "properties": {"name": marker}}]}), headers={"Content-Type": "application/json",
                                                      "X-Polku-Server-Key": server_key_for(SITE_KEY)}, timeout=30)
    assert r.status_code in (200, 202), r.text
    base = journey.state_machine_arn(_stack(twin).prefix)
    [run] = _wait("the new journey's run", lambda: sfn.list_executions(stateMachineArn=base)["executions"])
    described = sfn.describe_execution(executionArn=run["executionArn"])
    assert json.loads(described["input"])["customer_id"] == cid
    assert described["stateMachineAliasArn"] == journey.live_arn(_stack(twin).prefix)
    assert described["stateMachineVersionArn"] == version
    states = _wait("its first state", lambda: [e for e in sfn.get_execution_history(executionArn=run["executionArn"])["events"]
                                               if e["type"].endswith("StateEntered")])
    assert states[0]["stateEnteredEventDetails"]["name"] == json.loads((folder / f"{name}.asl.json").read_text())["StartAt"]


def _two_versions(hold_seconds: int = 86400):
    def asl(label: str) -> str:
        return json.dumps({"StartAt": "Hold", "States": {
            "Hold": {"Type": "Wait", "Seconds": hold_seconds, "Next": "Done"},
            "Done": {"Type": "Pass", "Result": label, "ResultPath": "$.ran", "End": True}}})
    return asl("v1"), asl("v2")


def _finished(sfn, arn: str) -> dict:
    return _wait(f"{arn} to finish", lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d)


def test_running_executions_finish_on_their_version_new_ones_start_on_the_live_one(twin, virtual_clock):
    sfn, stack = twin.client("stepfunctions"), _stack(twin)
    name = f"ver_{_uid()}"
    journey = registry.parse_journey(name, {"description": "versions", "trigger": {"event": "custom"}})
    v1, v2 = _two_versions()

    first = publish.publish(sfn, journey, v1, stack)
    assert first.changed and first.version_arn.endswith(":1") and first.previous_version_arn is None
    assert not publish.publish(sfn, journey, v1, stack).changed  # the same definition makes no version

    def start(tag: str) -> str:
        return sfn.start_execution(stateMachineArn=journey.live_arn(stack.prefix), name=f"{tag}-{_uid()}",
                                   input="{}")["executionArn"]

    with virtual_clock.actor():  # time stands still until both runs are waiting
        waiting = start("old")
        _wait("the v1 run to wait", lambda: any(e["type"] == "WaitStateEntered" for e in
                                                sfn.get_execution_history(executionArn=waiting)["events"]))
        second = publish.publish(sfn, journey, v2, stack, description="v2: a different ending")
        assert second.changed and second.version_arn.endswith(":2") and second.previous_version_arn == first.version_arn
        fresh = start("new")
    old_run, new_run = _finished(sfn, waiting), _finished(sfn, fresh)
    assert json.loads(old_run["output"])["ran"] == "v1" and old_run["stateMachineVersionArn"] == first.version_arn
    assert json.loads(new_run["output"])["ran"] == "v2" and new_run["stateMachineVersionArn"] == second.version_arn
    # both are the state machine's executions (as ListExecutions shows them on AWS)
    listed = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=journey.state_machine_arn(stack.prefix))["executions"]}
    assert {waiting, fresh} <= listed

    assert publish.rollback(sfn, journey, stack) == (second.version_arn, first.version_arn)
    assert json.loads(_finished(sfn, start("back"))["output"])["ran"] == "v1"
    with pytest.raises(publish.PublishError, match="nothing to roll back to"):
        publish.rollback(sfn, journey, stack)


def test_publish_refuses_what_the_stack_does_not_provide(twin, tmp_path):
    sfn, stack = twin.client("stepfunctions"), _stack(twin)
    journey = registry.parse_journey(f"bad_{_uid()}", {"description": "x", "trigger": {"event": "custom"}})
    text = json.dumps({"StartAt": "S", "States": {"S": {"Type": "Task", "Resource": "${NoSuchFunctionArn}", "End": True}}})
    with pytest.raises(publish.PublishError, match=r"\$\{NoSuchFunctionArn\} is not a substitution the stack provides"):
        publish.publish(sfn, journey, publish.render(text, stack.substitutions, "bad.asl.json"), stack)
    with pytest.raises(publish.PublishError, match="JourneyExecutionRoleArn"):
        publish.JourneyStack.from_outputs({k: v for k, v in twin.outputs.items() if k != "JourneyExecutionRoleArn"})
    # a registry entry whose journey is not published yet is refused before the registry is
    folder = _clone_statemachines(tmp_path)
    _add_journey(folder, f"late_{_uid()}", "welcome", "never")
    with pytest.raises(publish.PublishError, match="in the registry but not published"):
        publish.publish_all(sfn, twin.client("s3"), folder, stack, names=["welcome"])


def test_the_twin_published_every_journey_of_the_registry_behind_live(twin):
    sfn, stack = twin.client("stepfunctions"), _stack(twin)
    reg = registry.load(REPO / "statemachines" / "registry.yaml")
    for journey in reg.journeys.values():
        version = publish.live_version(sfn, journey, stack)
        assert version is not None, journey.name
        described = sfn.describe_state_machine(stateMachineArn=version)
        assert described["roleArn"] == stack.role_arn == twin.resolver.attrs[("JourneyExecutionRole", "Arn")]
        expected = publish.definition(journey, REPO / "statemachines", stack)
        assert described["definition"] == expected and "${" not in expected
    body = twin.client("s3").get_object(Bucket=stack.bucket, Key=publish.REGISTRY_KEY)["Body"].read().decode()
    assert set(registry.parse(__import__("yaml").safe_load(body)).journeys) >= set(reg.journeys)


def test_publishing_needs_no_right_beyond_the_publisher_policy(twin, template, tmp_path, restore_registry):
    """The deploy path: every AWS call that publish (create, new version, alias, registry) and rollback
    make, recorded on the twin with the rights AWS implies (PublishStateMachineVersion, PassRole), is
    allowed by JourneyPublisherPolicy, the managed policy ops attach to whoever publishes."""
    from polku.twin import iam_agreement

    folder = _clone_statemachines(tmp_path)
    name = f"iam_{_uid()}"
    _add_journey(folder, name, "welcome", f"m-{_uid()}")
    sfn, s3, stack = twin.client("stepfunctions"), twin.client("s3"), _stack(twin)
    with iam_agreement.recording() as rec, iam_agreement.acting_as("JourneyPublisherPolicy"):
        publish.publish_all(sfn, s3, folder, stack, [name])  # creates it behind live, then the registry
        asl = folder / f"{name}.asl.json"
        changed = json.loads(asl.read_text())
        changed["Comment"] = "v2 " + changed.get("Comment", "")
        asl.write_text(json.dumps(changed))
        publish.publish_all(sfn, s3, folder, stack, [name])  # version 2
        publish.rollback(sfn, registry.load(folder / "registry.yaml").get(name), stack)
    grants = {"JourneyPublisherPolicy": iam_agreement.policy_grants(
        template.resources["JourneyPublisherPolicy"]["Properties"]["PolicyDocument"], twin.resolver)}
    result = iam_agreement.check(rec, grants)
    actions = {c.action for c in rec.calls}
    assert {"states:CreateStateMachine", "states:UpdateStateMachine", "states:PublishStateMachineVersion",
            "states:CreateStateMachineAlias", "states:UpdateStateMachineAlias", "states:DescribeStateMachineAlias",
            "iam:PassRole", "s3:PutObject"} <= actions, actions
    assert not rec.unmapped, rec.unmapped
    assert not result.missing, result.report()
    passed = {c.resource for c in rec.calls if c.action == "iam:PassRole"}
    assert passed == {twin.resolver.attrs[("JourneyExecutionRole", "Arn")]}
    # the check bites: without its PassRole statement the policy could not publish
    without = [g for g in grants["JourneyPublisherPolicy"] if "iam:PassRole" not in g.actions]
    missing = iam_agreement.check(rec, {"JourneyPublisherPolicy": without}).missing["JourneyPublisherPolicy"]
    assert {a for a, _ in missing} == {"iam:PassRole"}
