"""Export and erase one customer's data: the PrivacyFunction and `polku customers`."""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import requests

from polku.cli.main import main
from polku.data.journey_state import JourneyStateModel
from polku.data.messages import MessageModel
from polku.journeys import registry, runs
from polku.settings import get_settings
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import profile_store
from polku.tracking.trust_secrets import mint_for  # identify needs a token from the shop's backend (#16)

pytestmark = pytest.mark.twin


def seed(api):
    anon, cust = f"a-{uuid.uuid4().hex[:10]}", f"c-{uuid.uuid4().hex[:10]}"
    ev = lambda t, **p: {"event_id": uuid.uuid4().hex, "type": t, "anonymous_id": anon,  # noqa: E731
                         "ts": "2026-01-05T08:00:00Z", "properties": p}
    requests.post(f"{api}/v1/events", json={"site_key": "demo-shop", "events": [ev("page_view", url="/")]}, timeout=30)
    requests.post(f"{api}/v1/identify", json={"site_key": "demo-shop", "anonymous_id": anon, "customer_id": cust,
                                              "traits": {"email": "e@example.com"},
                                              "identity_token": mint_for("demo-shop", cust)}, timeout=30)
    requests.post(f"{api}/v1/events", json={"site_key": "demo-shop", "events": [ev("search", query="tea")]}, timeout=30)
    MessageModel(f"m-{cust}", customer_id=cust, journey="welcome", created_at="2026-01-05T08:00:00Z",
                 status="sent", channel="email").save()
    JourneyStateModel(cust, "run#welcome#x", journey="welcome", entered_at="2026-01-05T08:00:00Z").save()
    return anon, cust


def test_privacy_function_exports_everything(twin, api):
    anon, cust = seed(api)
    out = twin.client("lambda").invoke(FunctionName=twin.names["PrivacyFunction"],
                                       Payload=json.dumps({"action": "export", "customer_id": cust}))
    data = json.loads(out["Payload"].read())
    assert data["customer_id"] == cust and data["anonymous_ids"] == [anon]
    assert sorted(e["type"] for e in data["events"]) == ["identify", "page_view", "search"]
    assert set(data["profiles"]) == {cust, f"anon:{anon}"}
    assert [m["message_id"] for m in data["messages"]] == [f"m-{cust}"]
    assert [s["sk"] for s in data["journey_state"]] == ["run#welcome#x"]


def cli_json(text: str) -> dict:
    """The CLI's indented JSON document (handlers running in this process may log lines too)."""
    lines = text.splitlines()
    start, end = lines.index("{"), len(lines) - 1 - lines[::-1].index("}")
    return json.loads("\n".join(lines[start:end + 1]))


def test_cli_erase_removes_everything_and_repeats_safely(api, capsys):
    anon, cust = seed(api)
    assert main(["--endpoint", api, "customers", "erase", cust, "--yes"]) == 0
    result = cli_json(capsys.readouterr().out)
    removed = result["removed"]
    assert {k: v for k, v in removed.items() if v} == {"events": 3, "profiles": 2, "identity_links": 1, "messages": 1,
                                                       "journey_state": 1}
    assert result["stopped_executions"] == 0
    assert list(event_table.of_subject(f"c#{cust}")) == [] and list(event_table.of_subject(f"a#{anon}")) == []
    assert profile_store.load(cust) is None and profile_store.load(f"anon:{anon}") is None
    assert identities.customer_of(anon) is None
    assert list(MessageModel.by_customer.query(cust)) == [] and list(JourneyStateModel.query(cust)) == []
    assert main(["--endpoint", api, "customers", "erase", cust, "--yes"]) == 0
    assert set(cli_json(capsys.readouterr().out)["removed"].values()) == {0}


def test_cli_export_and_errors(api, capsys, tmp_path):
    _, cust = seed(api)
    out = tmp_path / "x.json"
    assert main(["--endpoint", api, "customers", "export", cust, "--out", str(out)]) == 0
    assert len(json.loads(out.read_text())["events"]) == 3
    assert main(["--endpoint", api, "customers", "erase", "bad id!", "--yes"]) == 2
    assert "customer_id" in capsys.readouterr().err


def test_erase_stops_the_customers_running_journeys(twin, api, capsys):
    """A running execution (real journey entry; browse_abandonment waits 4 hours first) is stopped
    before its state is deleted, and state kept under a linked browser's profile key goes too."""
    anon, cust = seed(api)
    sfn = twin.client("stepfunctions")
    # any profile may enter (requires_reachable: false): the test needs a run
    journey = dataclasses.replace(registry.current().journeys["browse_abandonment"], requires_reachable=False)
    trigger = {"type": "product_view", "event_id": uuid.uuid4().hex, "ts": "2026-01-05T08:00:00Z",
               "properties": {"product_id": "p-1"}}
    entry = runs.enter(journey, cust, trigger, sfn, get_settings().state_machine_prefix)
    assert entry.outcome == "started"
    JourneyStateModel(f"anon:{anon}", "log#2026-01-05T08:00:00Z#x#0", journey="welcome").save()
    assert main(["--endpoint", api, "customers", "erase", cust, "--yes"]) == 0
    result = cli_json(capsys.readouterr().out)
    assert result["stopped_executions"] == 1 and result["removed"]["journey_state"] == 3
    assert sfn.describe_execution(executionArn=entry.execution_arn)["status"] == "ABORTED"
    assert list(JourneyStateModel.query(cust)) == [] and list(JourneyStateModel.query(f"anon:{anon}")) == []
