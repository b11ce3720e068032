"""`polku local` as a user runs it: a process that stays up and answers on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
POLKU = [sys.executable, "-m", "polku.cli.main"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def local_twin():
    api, aws = _free_port(), _free_port()
    proc = subprocess.Popen(
        POLKU + ["local", "--port", str(api), "--aws-port", str(aws)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    deadline = time.monotonic() + 60
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
    yield api, aws, proc
    proc.terminate()
    proc.wait(timeout=20)


def test_answers_post_events_and_stores_once(local_twin):
    api, aws, _ = local_twin
    eid = f"evt-{uuid.uuid4()}"
    body = json.dumps({"site_key": "demo-shop", "events": [{"event_id": eid, "type": "page_view", "ts": "2026-01-05T08:00:00Z",
                                   "anonymous_id": "anon-local", "properties": {"url": "https://shop.example/"}}]})
    for _ in range(2):  # a retried batch
        req = urllib.request.Request(f"http://127.0.0.1:{api}/v1/events", data=body.encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
            assert eid in json.load(resp)["accepted"]
    ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{aws}", region_name="eu-west-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    items = ddb.scan(TableName="polku-local-events")["Items"]
    assert [i["event_id"]["S"] for i in items].count(eid) == 1


def test_state_machine_runs_the_real_step_handler(local_twin):
    _, aws, _ = local_twin
    kw = dict(endpoint_url=f"http://127.0.0.1:{aws}", region_name="eu-west-1",
              aws_access_key_id="x", aws_secret_access_key="x")
    sfn = boto3.client("stepfunctions", **kw)
    step_arn = "arn:aws:lambda:eu-west-1:123456789012:function:polku-local-journey-step"
    arn = sfn.create_state_machine(
        name=f"local-{uuid.uuid4().hex[:8]}", roleArn="arn:aws:iam::123456789012:role/polku-twin-execution-role",
        definition=json.dumps({"StartAt": "Variant", "States": {"Variant": {
            "Type": "Task", "Resource": step_arn,
            "Parameters": {"action": "assign_variant", "journey": "welcome", "customer_id.$": "$.customer_id",
                           "splits": {"A": 0.5, "B": 0.5}},
            "End": True}}}),
    )["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"customer_id": "cust-42"}))["executionArn"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex)
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert desc["status"] == "SUCCEEDED", desc
    # The real handler's answer: the stable-hash variant for this customer and journey.
    from polku.journeys.variants import assign

    assert json.loads(desc["output"])["variant"] == assign("cust-42", "welcome", {"A": 0.5, "B": 0.5})


def test_a_journey_starts_from_an_event_posted_to_the_api(local_twin):
    api, aws, _ = local_twin
    cid = f"cust-{uuid.uuid4().hex[:8]}"
    # a customer a consented channel reaches (journeys start for no one else)
    ddb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{aws}", region_name="eu-west-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    ddb.put_item(TableName="polku-local-profiles", Item={
        "customer_id": {"S": cid}, "version": {"N": "1"}, "traits": {"M": {"email": {"S": f"{cid}@example.com"}}},
        "consents": {"M": {"email": {"M": {"granted": {"BOOL": True}}}}}})
    # ... signed in on this browser earlier (the identity link a verified identify writes): the public
    # route takes events naming a customer only from a browser linked to them
    anon = f"anon-{cid}"
    ddb.put_item(TableName="polku-local-identities", Item={
        "anonymous_id": {"S": anon}, "customer_id": {"S": cid}, "linked_at": {"S": "2026-01-05T07:00:00.000Z"}})
    body = {"site_key": "demo-shop", "events": [{"event_id": f"e-{uuid.uuid4()}", "type": "add_to_cart",
            "ts": "2026-01-05T08:00:00Z", "customer_id": cid, "anonymous_id": anon,
            "properties": {"product_id": "p1", "quantity": 1, "price": 2.5}}]}
    req = urllib.request.Request(f"http://127.0.0.1:{api}/v1/events", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    urllib.request.urlopen(req, timeout=10).read()
    sfn = boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{aws}", region_name="eu-west-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:polku-local-abandoned-cart"
    deadline = time.monotonic() + 20
    runs = []
    while time.monotonic() < deadline and not runs:
        runs = [e for e in sfn.list_executions(stateMachineArn=arn)["executions"] if cid in e["name"]]
        time.sleep(0.1)
    assert runs, "the abandoned-cart journey did not start from the add_to_cart event"


def test_describes_itself_for_the_cli(local_twin):
    api, aws, _ = local_twin
    with urllib.request.urlopen(f"http://127.0.0.1:{api}/_polku/twin", timeout=5) as resp:
        info = json.load(resp)
    assert info["aws_endpoint"] == f"http://127.0.0.1:{aws}"
    assert info["outputs"]["EventsTableName"] == "polku-local-events"


def test_port_in_use_gives_one_clear_line_and_nonzero_exit(local_twin):
    api, _, _ = local_twin
    result = subprocess.run(POLKU + ["local", "--port", str(api), "--aws-port", str(_free_port())],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and f"port {api}" in lines[0] and "--port" in lines[0]


def test_broken_template_gives_one_clear_line(tmp_path):
    bad = tmp_path / "template.yaml"
    bad.write_text("Resources: [this is: not a template\n")
    result = subprocess.run(POLKU + ["local", "--port", str(_free_port()), "--aws-port", str(_free_port()),
                                     "--template", str(bad)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "template" in lines[0] and str(bad) in lines[0]
