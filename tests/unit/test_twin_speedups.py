"""The twin's speed patches give the libraries' own results (src/polku/twin/patches/)."""

from __future__ import annotations

import base64
import json

import pytest

from polku.twin import patches
from polku.twin.patches import dynamodb_serialiser

ITEMS = [
    {"pk": {"S": "c#1"}, "n": {"N": "12.50"}, "flag": {"BOOL": False}, "nothing": {"NULL": True}},
    {"pk": {"S": ""}, "bin": {"B": base64.b64encode(b"\x00\x01").decode()}, "bins": {"BS": ["AAE=", "AgM="]}},
    {"pk": {"S": "x"}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "empty_map": {"M": {}},
     "empty_list": {"L": []}},
    {"pk": {"S": "deep"}, "m": {"M": {"a": {"L": [{"S": "x"}, {"M": {"b": {"N": "1"}, "c": {"NULL": True}}},
                                                  {"L": []}, {"BOOL": True}]},
                                      "z": {"SS": ["q"]}}}},
    {"pk": {"S": "unicode ä €"}, "s": {"S": "line\nbreak \"quoted\""}},
]


def _serialise(operation: str, result: dict, fast: bool) -> str:
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    patches.apply_one("dynamodb_serialiser")
    model = get_service_model("dynamodb").operation_model(operation)
    serializer = JSONSerializer(operation_model=model, value_picker=XFormedAttributePicker())
    previous = dynamodb_serialiser.fast_serialise["enabled"]
    dynamodb_serialiser.fast_serialise["enabled"] = fast
    try:
        return serializer.serialize(result)["body"]
    finally:
        dynamodb_serialiser.fast_serialise["enabled"] = previous


@pytest.mark.parametrize("operation, result", [
    ("Query", {"Items": ITEMS, "Count": len(ITEMS), "ScannedCount": len(ITEMS),
               "LastEvaluatedKey": {"pk": {"S": "deep"}}}),
    ("Query", {"Items": [], "Count": 0, "ScannedCount": 0}),
    ("GetItem", {"Item": ITEMS[3]}),
    ("PutItem", {"Attributes": ITEMS[0], "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}}),
    ("BatchGetItem", {"Responses": {"t": ITEMS}, "UnprocessedKeys": {}}),
    # Values the fast path does not take (left to moto): None inside a list, an unknown key.
    ("GetItem", {"Item": {"pk": {"S": "x"}, "odd": {"L": [None, {"S": "y"}]}}}),
    ("GetItem", {"Item": {"pk": {"S": "x"}, "odd": {"StringAttributeValue": "y"}}}),
])
def test_fast_dynamodb_serialisation_gives_moto_s_body(operation, result, monkeypatch):
    calls = []
    original = dynamodb_serialiser._attribute_value
    monkeypatch.setattr(dynamodb_serialiser, "_attribute_value", lambda s, v: calls.append(v) or original(s, v))
    fast = _serialise(operation, result, True)
    assert calls or not any(result.get(k) for k in ("Items", "Item", "Attributes", "Responses"))  # it was used
    calls.clear()
    slow = _serialise(operation, result, False)
    assert not calls
    assert fast == slow
    assert json.loads(fast)  # and it is a real body


def test_jsonpath_parses_are_shared_and_give_the_same_answers():
    patches.apply_one("sfn_jsonpath_cache")
    from moto.stepfunctions.parser.asl.utils.json_path import extract_json

    data = {"a": {"b": [1, 2, 3]}, "c": "d"}
    assert extract_json("$.a.b", data) == [1, 2, 3]
    assert extract_json("$.a.b[1]", data) == 2
    assert extract_json("$.c", {"c": "other"}) == "other"  # a cached path read against new data


def test_user_agent_is_the_one_botocore_builds():
    import boto3
    from botocore.config import Config
    from botocore.context import start_as_current_context
    from botocore.useragent import register_feature_id

    patches.apply_one("botocore_user_agent")
    client = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    creator = client._user_agent_creator
    plain = creator.to_string()
    assert plain == creator.to_string() and "ua/2.1" in plain
    with start_as_current_context():
        register_feature_id("WAITER")
        with_feature = creator.to_string()
    assert with_feature != plain and " m/" in with_feature and creator.to_string() == plain
    other = creator.with_client_config(Config(user_agent_appid="polku-test"))
    assert "app/polku-test" in other.to_string() and "app/polku-test" not in creator.to_string()


def test_a_stream_consumer_sees_the_new_item_in_an_index_query(monkeypatch):
    """Synchronous stream delivery runs inside PutItem/UpdateItem; an index query made by the
    consumer must see the item being written, as moto's full scan does."""
    import uuid

    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend
    from moto.dynamodb.models import dynamodb_backends

    patches.apply_one("dynamodb_partition_query")
    seen = []
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        name = f"t-{uuid.uuid4().hex[:8]}"
        ddb.create_table(
            TableName=name, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("id", "who", "ts")],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[{"IndexName": "by_who", "Projection": {"ProjectionType": "ALL"},
                                     "KeySchema": [{"AttributeName": "who", "KeyType": "HASH"},
                                                   {"AttributeName": "ts", "KeyType": "RANGE"}]}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        table = dynamodb_backends["123456789012"]["eu-west-1"].get_table(name)

        def consumer(self, arn, items, source):  # what a Lambda on the stream would query
            got = ddb.query(TableName=name, IndexName="by_who", KeyConditionExpression="who = :w",
                            ExpressionAttributeValues={":w": {"S": "ann"}})
            seen.append([i["id"]["S"] for i in got["Items"]])
            return "ok"

        monkeypatch.setattr(LambdaBackend, "send_dynamodb_items", consumer)
        esm = type("Mapping", (), {"event_source_arn": "arn:stream"})()
        monkeypatch.setattr(table, "lambda_event_source_mappings", {"arn:aws:lambda:eu-west-1:123456789012:x": esm})
        ddb.put_item(TableName=name, Item={"id": {"S": "1"}, "who": {"S": "ann"}, "ts": {"S": "a"}})
        ddb.put_item(TableName=name, Item={"id": {"S": "2"}, "who": {"S": "bob"}, "ts": {"S": "b"}})
        ddb.update_item(TableName=name, Key={"id": {"S": "2"}}, UpdateExpression="SET who = :w",
                        ExpressionAttributeValues={":w": {"S": "ann"}})
    assert seen == [["1"], ["1"], ["1", "2"]]
