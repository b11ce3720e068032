"""`polku report` on the twin: the numbers in report.json match counts taken straight from
the tables (DynamoDB queries with Select=COUNT / filters, not the report's own code)."""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from pathlib import Path

import pytest

from polku.cli.main import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import report_fixture  # noqa: E402

pytestmark = pytest.mark.twin
SENT = ["sent", "delivered", "bounced", "complained"]


def _put_all(twin, table: str, items: list[dict]) -> None:
    import boto3

    res = boto3.resource("dynamodb", endpoint_url=twin.endpoint_url, region_name=twin.region,
                         aws_access_key_id="twin", aws_secret_access_key="twin")
    with res.Table(table).batch_writer() as batch:
        for item in json.loads(json.dumps(items), parse_float=__import__("decimal").Decimal):
            batch.put_item(Item=item)


def _count(ddb, **kwargs) -> int:
    total, start = 0, None
    while True:
        page = ddb.query(Select="COUNT", **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        total += page["Count"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return total


def _items(ddb, op: str = "query", **kwargs) -> list[dict]:
    """Every item of a query (or a scan), page after page: a shared twin's tables outgrow one page."""
    out, start = [], None
    while True:
        page = getattr(ddb, op)(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        out += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


@pytest.fixture(scope="module")
def report(twin, tmp_path_factory):
    run = uuid.uuid4().hex[:8]
    data = report_fixture.build(run)
    names = twin.names
    _put_all(twin, names["MessagesTable"], data["messages"])
    _put_all(twin, names["EventsTable"], data["events"])
    _put_all(twin, names["JourneyStateTable"], data["runs"])
    _put_all(twin, names["EnrollmentsTable"], [{"pk": f"enr#{data['enrollment_id']}", "sk": "meta", "kind": "meta",
                                                 "enrollment_id": data["enrollment_id"]}])
    out = tmp_path_factory.mktemp("report")
    assert main(["--endpoint", twin.api_url, "report", "--out", str(out), "--days", "7"]) == 0
    assert (out / "index.html").is_file() and (out / "plotly.min.js").stat().st_size > 1_000_000
    return data, json.loads((out / "report.json").read_text())


def test_funnel_matches_message_log(twin, report):
    data, fig = report
    ddb = twin.client("dynamodb")
    for j in data["journeys"]:
        rows = {r["step"]: r for r in fig["funnel"][j]}
        entered = _count(ddb, TableName=twin.names["JourneyStateTable"], IndexName="by_journey",
                         KeyConditionExpression="journey = :j", FilterExpression="#s <> :h",
                         ExpressionAttributeNames={"#s": "status"},
                         ExpressionAttributeValues={":j": {"S": j}, ":h": {"S": "holdout"}})
        assert rows["entered"]["customers"] == entered > 0
        for step in ("SendFirst", "SendFollowUp"):
            sent = _count(ddb, TableName=twin.names["MessagesTable"], IndexName="by_journey",
                          KeyConditionExpression="journey = :j", FilterExpression="step = :s AND #st IN (:a, :b, :c, :d)",
                          ExpressionAttributeNames={"#st": "status"},
                          ExpressionAttributeValues={":j": {"S": j}, ":s": {"S": step},
                                                     **{f":{k}": {"S": v} for k, v in zip("abcd", SENT)}})
            clicked = _count(ddb, TableName=twin.names["MessagesTable"], IndexName="by_journey",
                             KeyConditionExpression="journey = :j",
                             FilterExpression="step = :s AND attribute_exists(feedback.click_at)",
                             ExpressionAttributeValues={":j": {"S": j}, ":s": {"S": step}})
            assert rows[step]["customers"] == sent > 0  # one message per customer and step in the fixture
            assert rows[step]["clicked"] == clicked


def test_rates_per_variant_match_tables(twin, report):
    data, fig = report
    ddb = twin.client("dynamodb")
    j = data["journeys"][0]  # the A/B journey with a holdout
    events = _items(ddb, "scan", TableName=twin.names["EventsTable"], FilterExpression="#t = :o",
                    ExpressionAttributeNames={"#t": "type"}, ExpressionAttributeValues={":o": {"S": "email_open"}})
    pixel_opened = {e["properties"]["M"]["message_id"]["S"] for e in events}
    for variant in ("A", "B"):
        msgs = _items(ddb, TableName=twin.names["MessagesTable"], IndexName="by_journey",
                      KeyConditionExpression="journey = :j", FilterExpression="variant = :v",
                      ExpressionAttributeValues={":j": {"S": j}, ":v": {"S": variant}})
        sent = [m for m in msgs if m["status"]["S"] in SENT]
        fb = lambda m, k: k in m.get("feedback", {}).get("M", {})  # noqa: E731
        opened = [m for m in sent if fb(m, "open_at") or fb(m, "click_at") or m["message_id"]["S"] in pixel_opened]
        row = next(r for r in fig["rates"] if r["journey"] == j and r["variant"] == variant)
        assert (row["sent"], row["opened"], row["clicked"]) == (len(sent), len(opened),
                                                                 sum(1 for m in sent if fb(m, "click_at")))
        # converted: a purchase by the customer within 7 days after their first sent message
        first: dict[str, str] = {}
        for m in sorted(sent, key=lambda m: m["sent_at"]["S"]):
            first.setdefault(m["customer_id"]["S"], m["sent_at"]["S"])
        converted = 0
        for cid, at in first.items():
            end = (dt.datetime.fromisoformat(at.replace("Z", "+00:00")) + dt.timedelta(days=7)).strftime(
                "%Y-%m-%dT%H:%M:%S.000Z")
            converted += _count(ddb, TableName=twin.names["EventsTable"], IndexName="by_subject",
                                KeyConditionExpression="subject = :c AND ts BETWEEN :a AND :b",
                                FilterExpression="#t = :p", ExpressionAttributeNames={"#t": "type"},
                                ExpressionAttributeValues={":c": {"S": f"c#{cid}"}, ":a": {"S": at},
                                                           ":b": {"S": end + "~"}, ":p": {"S": "purchase"}}) > 0
        assert row["customers"] == len(first) and row["converted"] == converted
    holdout = _count(ddb, TableName=twin.names["JourneyStateTable"], IndexName="by_journey",
                     KeyConditionExpression="journey = :j", FilterExpression="#s = :h",
                     ExpressionAttributeNames={"#s": "status"},
                     ExpressionAttributeValues={":j": {"S": j}, ":h": {"S": "holdout"}})
    lift = next(r for r in fig["holdout_lift"] if r["journey"] == j)
    assert lift["holdout_customers"] == holdout > 0


def test_entries_exits_revenue_and_volume_match_tables(twin, report):
    data, fig = report
    ddb = twin.client("dynamodb")
    for j in data["journeys"]:
        runs = _items(ddb, TableName=twin.names["JourneyStateTable"], IndexName="by_journey",
                      KeyConditionExpression="journey = :j", ExpressionAttributeValues={":j": {"S": j}})
        enrolled = sum(1 for r in runs if r["trigger_event_id"]["S"] == data["enrollment_id"]
                       and r["status"]["S"] != "holdout")
        assert fig["entries"][j].get("enrollment", 0) == enrolled > 0
        goal = sum(1 for r in runs if r.get("exit_reason", {}).get("S") == "goal")
        assert fig["exits"][j].get("goal", 0) == goal
    # revenue: each purchase goes to the customer's latest click in the 7 days before it
    purchases = _items(ddb, "scan", TableName=twin.names["EventsTable"], FilterExpression="#t = :p AND begins_with(customer_id, :r)",
                         ExpressionAttributeNames={"#t": "type"},
                         ExpressionAttributeValues={":p": {"S": "purchase"}, ":r": {"S": f"rpt-{data['journeys'][0][4:12]}"}})
    expected: dict[str, float] = {}
    for p in purchases:
        cid, at = p["customer_id"]["S"], p["client_ts"]["S"]
        msgs = _items(ddb, TableName=twin.names["MessagesTable"], IndexName="by_customer",
                      KeyConditionExpression="customer_id = :c", ExpressionAttributeValues={":c": {"S": cid}})
        clicks = sorted((m["feedback"]["M"]["click_at"]["S"], m["journey"]["S"]) for m in msgs
                        if "click_at" in m.get("feedback", {}).get("M", {}) and m["feedback"]["M"]["click_at"]["S"] <= at)
        if clicks:
            t = dt.datetime.fromisoformat(clicks[-1][0].replace("Z", "+00:00"))
            if dt.datetime.fromisoformat(at.replace("Z", "+00:00")) - t <= dt.timedelta(days=7):
                j = clicks[-1][1]
                expected[j] = round(expected.get(j, 0) + float(p["properties"]["M"]["revenue"]["N"]), 2)
    assert expected and {j: fig["revenue_after_click"]["by_journey"].get(j) for j in expected} == expected
    # one-off vs journey volume on one of the fixture's days (no other test writes 2024 data)
    day = "2024-03-05"
    on_day = _items(ddb, "scan", TableName=twin.names["MessagesTable"],
                      FilterExpression="begins_with(sent_at, :d) AND #st IN (:a, :b, :c, :e)",
                      ExpressionAttributeNames={"#st": "status"},
                      ExpressionAttributeValues={":d": {"S": day}, **{f":{k}": {"S": v} for k, v in zip("abce", SENT)}})
    kinds = [m["message_type"]["S"] for m in on_day]
    row = next(r for r in fig["volume_by_day"] if r["day"] == day)
    assert (row["journey"], row["one_off"]) == (kinds.count("journey"), kinds.count("newsletter"))
    assert row["one_off"] > 0 and row["journey"] > 0
    strategy = fig["recommendations"]["by_strategy"][f"also_bought_{data['journeys'][0][4:12]}"]
    recs = [m for m in data["messages"] if m.get("recommended_products") and m["status"] in SENT]
    assert strategy["messages"] == len(recs) and strategy["clicked"] == sum(1 for m in recs if "click_at" in m["feedback"])
