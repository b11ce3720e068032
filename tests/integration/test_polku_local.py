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
    sfn = boto3.client("stepfunctions", endpoint_url=f"http://127.0.0.1:{aws}", region_name="eu-west-1",
                       aws_access_key_id="x", aws_secret_access_key="x")
    arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:polku-local-welcome"
    ex = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"customer_id": "cust-42"}))["executionArn"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        desc = sfn.describe_execution(executionArn=ex)
        if desc["status"] != "RUNNING":
            break
        time.sleep(0.05)
    assert desc["status"] == "SUCCEEDED", desc
    history = sfn.get_execution_history(executionArn=ex)["events"]
    lambda_results = [e for e in history if e["type"] == "LambdaFunctionSucceeded"]
    assert lambda_results, "no Lambda task ran"


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
