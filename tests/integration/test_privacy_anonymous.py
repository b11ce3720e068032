"""Privacy for visitors who never identified: `polku customers export|erase` by anonymous id, on the twin.

Events go in through the tracking API as the tracker sends them; the profile comes from the real
profile updater on the events stream; journey state and the running execution come from the real
journey entry (``runs.enter``) under the visitor's profile key.
"""

from __future__ import annotations

import dataclasses
import json
import uuid

import pytest
import requests

from polku.cli.main import main
from polku.data.journey_state import JourneyStateModel
from polku.journeys import registry, runs
from polku.settings import get_settings
from polku.tracking.trust_secrets import mint_for  # identify needs a token from the shop's backend (#16)
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import profile_store

pytestmark = pytest.mark.twin


def post_events(api, anon: str, *types: str) -> None:
    events = [{"event_id": uuid.uuid4().hex, "type": t, "anonymous_id": anon, "ts": f"2026-01-05T08:0{i}:00Z",
               "properties": {"product_id": "p-42"} if t == "product_view" else {"url": "/"}}
              for i, t in enumerate(types)]
    r = requests.post(f"{api}/v1/events", json={"site_key": "demo-shop", "events": events}, timeout=30)
    assert r.status_code < 300, r.text


def visitor(api, twin) -> tuple[str, str]:
    """A browser that never identified: three events, its profile, and a running journey under its key.

    Returns (anonymous id, execution ARN)."""
    anon = f"anon-{uuid.uuid4().hex[:12]}"
    post_events(api, anon, "page_view", "product_view", "page_view")
    # starts with a 4-hour Wait: stays RUNNING; a visitor no channel reaches may enter (the test needs a run)
    journey = dataclasses.replace(registry.current().journeys["browse_abandonment"], requires_reachable=False)
    trigger = {"type": "product_view", "event_id": uuid.uuid4().hex, "ts": "2026-01-05T08:01:00Z",
               "properties": {"product_id": "p-42"}}
    entry = runs.enter(journey, f"anon:{anon}", trigger, twin.client("stepfunctions"),
                       get_settings().state_machine_prefix)
    assert entry.outcome == "started"
    return anon, entry.execution_arn


def cli(capsys, api, *argv) -> tuple[int, dict | None, str]:
    status = main(["--endpoint", api, "customers", *argv])
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    doc = None
    if "{" in lines:  # the CLI's indented JSON (handlers in this process may log lines too)
        start, end = lines.index("{"), len(lines) - 1 - lines[::-1].index("}")
        doc = json.loads("\n".join(lines[start:end + 1]))
    return status, doc, captured.err


def test_export_by_anonymous_id_shows_the_browsers_events_profile_and_journey_state(api, twin, capsys):
    anon, _ = visitor(api, twin)
    status, doc, _ = cli(capsys, api, "export", "--anonymous-id", anon)
    assert status == 0
    assert doc["anonymous_id"] == anon and doc["customer_id"] is None
    assert [e["type"] for e in doc["events"]] == ["page_view", "product_view", "page_view"]
    assert set(doc["profiles"]) == {f"anon:{anon}"}
    assert doc["profiles"][f"anon:{anon}"]["counts"] == {"page_view": 2, "product_view": 1}
    assert [s["sk"] for s in doc["journey_state"]] == ["run#browse_abandonment"]


def test_an_id_known_only_as_anonymous_is_detected(api, twin, capsys):
    anon, _ = visitor(api, twin)
    status, doc, err = cli(capsys, api, "export", anon)
    assert status == 0
    assert f"{anon} is an anonymous id" in err
    assert doc["anonymous_id"] == anon and len(doc["events"]) == 3


def test_erase_removes_the_browsers_data_stops_its_journey_and_spares_other_browsers(api, twin, capsys):
    anon, arn = visitor(api, twin)
    other, other_arn = visitor(api, twin)
    status, doc, err = cli(capsys, api, "erase", anon, "--yes")  # detected as anonymous
    assert status == 0 and f"{anon} is an anonymous id" in err
    assert {k: v for k, v in doc["removed"].items() if v} == {"events": 3, "profiles": 1, "journey_state": 1}
    assert doc["stopped_executions"] == 1
    sfn = twin.client("stepfunctions")
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"

    assert list(event_table.of_subject(f"a#{anon}")) == []
    assert profile_store.load(f"anon:{anon}") is None
    assert list(JourneyStateModel.query(f"anon:{anon}")) == []
    status, doc, _ = cli(capsys, api, "export", "--anonymous-id", anon)
    assert status == 0
    assert (doc["events"], doc["profiles"], doc["journey_state"], doc["messages"]) == ([], {}, [], [])

    # the other browser is untouched
    assert len(list(event_table.of_subject(f"a#{other}"))) == 3
    assert profile_store.load(f"anon:{other}") is not None
    assert [s.sk for s in JourneyStateModel.query(f"anon:{other}")] == ["run#browse_abandonment"]
    assert sfn.describe_execution(executionArn=other_arn)["status"] == "RUNNING"

    # repeating is safe
    status, doc, _ = cli(capsys, api, "erase", "--anonymous-id", anon, "--yes")
    assert status == 0 and set(doc["removed"].values()) == {0} and doc["stopped_executions"] == 0
    cli(capsys, api, "erase", "--anonymous-id", other, "--yes")  # leave no running execution behind


def test_a_browser_linked_to_a_customer_is_exported_but_erased_with_the_customer(api, twin, capsys):
    anon, cust = f"anon-{uuid.uuid4().hex[:12]}", f"c-{uuid.uuid4().hex[:10]}"
    post_events(api, anon, "page_view")
    r = requests.post(f"{api}/v1/identify", json={"site_key": "demo-shop", "anonymous_id": anon, "customer_id": cust,
                                                  "identity_token": mint_for("demo-shop", cust)}, timeout=30)
    assert r.status_code < 300, r.text
    status, doc, err = cli(capsys, api, "export", anon)  # the identity table knows it
    assert status == 0 and f"{anon} is an anonymous id" in err
    assert doc["customer_id"] == cust and [e["type"] for e in doc["events"]] == ["page_view"]

    status, _, err = cli(capsys, api, "erase", "--anonymous-id", anon, "--yes")
    assert status == 2 and "anonymous_id" in err and cust in err
    assert len(list(event_table.of_subject(f"a#{anon}"))) == 1  # nothing erased

    status, doc, _ = cli(capsys, api, "erase", cust, "--yes")  # the customer's erase covers the browser
    assert status == 0 and doc["removed"]["identity_links"] == 1
    assert list(event_table.of_subject(f"a#{anon}")) == [] and identities.customer_of(anon) is None


def test_bad_input_names_the_field(api, capsys):
    status, _, err = cli(capsys, api, "export", "--anonymous-id", "bad id!")
    assert status == 2 and "anonymous_id" in err
    status, _, err = cli(capsys, api, "export", "c-1", "--anonymous-id", "a-1")
    assert status == 2 and "customer_id" in err and "--anonymous-id" in err
    status, _, err = cli(capsys, api, "erase", "--yes")
    assert status == 2 and "customer_id" in err


def test_privacy_function_takes_an_anonymous_id(api, twin):
    anon, _ = visitor(api, twin)
    lam = twin.client("lambda")

    def invoke(payload):
        out = lam.invoke(FunctionName=twin.names["PrivacyFunction"], Payload=json.dumps(payload))
        return out.get("FunctionError"), json.loads(out["Payload"].read())

    error, data = invoke({"action": "export", "anonymous_id": anon})
    assert error is None and len(data["events"]) == 3 and set(data["profiles"]) == {f"anon:{anon}"}
    error, data = invoke({"action": "erase", "anonymous_id": anon})
    assert error is None and data["removed"]["events"] == 3 and data["stopped_executions"] == 1
    error, data = invoke({"action": "export", "customer_id": "c-1", "anonymous_id": anon})
    assert error and "customer_id" in data["errorMessage"]
