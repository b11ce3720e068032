"""The twin's direct lane (src/polku/twin/patches/botocore_direct_lane.py) answers every call as the stubbed HTTP path does.

A corpus of DynamoDB calls (conditions and return values, base-table and index queries with
pagination, filters and projections, batches, transactions incl. a cancelled one, errors, every
attribute type, consumed capacity) and calls of the other services the lane serves runs twice
on fresh resources: once through the lane, once through botocore's signing and moto's
BotocoreStubber. Responses and errors must be equal; only per-call request ids, dates and the
table names (one set per run) may differ.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from polku.twin import patches
from polku.twin.patches import botocore_direct_lane as direct

REGION = "eu-west-1"
VOLATILE_HEADERS = {"date", "x-amzn-requestid", "x-amz-crc32", "x-amz-request-id", "x-amz-id-2", "content-length"}


@pytest.fixture(scope="module")
def aws():
    patches.apply_all()
    patches.apply_one("botocore_direct_lane")
    with pytest.MonkeyPatch.context() as mp, mock_aws():
        _in_process(mp)
        yield


def _in_process(mp):
    """Clients here must reach moto in-process: no endpoint URL left in the environment by others."""
    import os

    for var in [v for v in os.environ if v.startswith("AWS_ENDPOINT_URL")]:
        mp.delenv(var)


def _client(service):
    return boto3.client(service, region_name=REGION, aws_access_key_id="twin", aws_secret_access_key="twin")


VOLATILE_KEYS = {"TableId", "RequestId", "MessageId", "VersionId"}  # fresh per call by design


def _strip(value):
    if isinstance(value, dict):
        return {k: ("<volatile>" if k in VOLATILE_KEYS else _strip(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    if isinstance(value, dt.datetime):
        return "<datetime>"
    return value


def _clean(value, names: dict):
    text = json.dumps(_strip(value), sort_keys=True, default=repr)
    for name, placeholder in names.items():
        text = text.replace(name, placeholder)
    return json.loads(text)


def _outcome(call, names):
    try:
        response = call()
        kind = "ok"
        if not isinstance(response, dict):
            response = {"value": response}
    except ClientError as e:
        response = dict(e.response)
        kind = f"error {type(e).__name__} {e.operation_name}"
    meta = dict(response.pop("ResponseMetadata", {}))
    headers = {k: v for k, v in (meta.get("HTTPHeaders") or {}).items() if k not in VOLATILE_HEADERS}
    return kind, meta.get("HTTPStatusCode"), _clean(headers, names), _clean(response, names)


def _run_lane(lane: bool, corpus):
    previous = direct.set_enabled(lane)
    before = direct.calls_here()  # this thread's: a background thread of another test may call meanwhile
    try:
        results = corpus()
    finally:
        direct.set_enabled(previous)
    used = direct.calls_here() - before
    return results, used


def _dynamodb_corpus():
    db = _client("dynamodb")
    table = f"direct-{uuid.uuid4().hex[:8]}"
    names = {table: "TABLE"}
    out = []

    def rec(label, call):
        out.append((label, _outcome(call, names)))

    rec("create", lambda: db.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "gk", "KeyType": "HASH"},
                                               {"AttributeName": "sk", "KeyType": "RANGE"}]}]))
    blob = base64.b64decode(base64.b64encode(b"\x00\xffbin"))
    for i in range(7):
        rec(f"put {i}", lambda i=i: db.put_item(
            TableName=table, ReturnConsumedCapacity="TOTAL", ReturnValues="ALL_OLD",
            Item={"pk": {"S": "p#1" if i < 5 else "p#2"}, "sk": {"S": f"s#{i:02d}"}, "gk": {"S": f"g#{i % 2}"},
                  "n": {"N": str(i * 1.5)}, "b": {"B": blob}, "ss": {"SS": ["a", f"x{i}"]},
                  "ns": {"NS": ["1", str(i + 2)]}, "bs": {"BS": [b"\x01", bytes([i + 2])]},
                  "l": {"L": [{"S": "v"}, {"N": "2"}, {"M": {"deep": {"BOOL": i % 2 == 0}}}]},
                  "m": {"M": {"k": {"S": "ä €"}, "none": {"NULL": True}}}, "flag": {"BOOL": True}}))
    rec("put again, condition fails", lambda: db.put_item(
        TableName=table, Item={"pk": {"S": "p#1"}, "sk": {"S": "s#00"}},
        ConditionExpression="attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    rec("get projection", lambda: db.get_item(
        TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#03"}}, ConsistentRead=True,
        ProjectionExpression="#n, l[2].#d, m.k", ExpressionAttributeNames={"#n": "n", "#d": "deep"},
        ReturnConsumedCapacity="TOTAL"))
    rec("get missing", lambda: db.get_item(TableName=table, Key={"pk": {"S": "nope"}, "sk": {"S": "x"}}))
    rec("update set/add/remove", lambda: db.update_item(
        TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#01"}},
        UpdateExpression="SET n = n + :one, l = list_append(l, :more), newer = if_not_exists(newer, :now) "
                         "ADD ss :tags REMOVE flag",
        ExpressionAttributeValues={":one": {"N": "1"}, ":more": {"L": [{"S": "w"}]}, ":now": {"S": "t"},
                                   ":tags": {"SS": ["z"]}},
        ReturnValues="UPDATED_NEW"))
    rec("update all_new with condition", lambda: db.update_item(
        TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#02"}},
        UpdateExpression="SET #v = :v", ConditionExpression="attribute_exists(pk) AND n >= :min",
        ExpressionAttributeNames={"#v": "version"}, ExpressionAttributeValues={":v": {"N": "2"}, ":min": {"N": "0"}},
        ReturnValues="ALL_NEW", ReturnConsumedCapacity="INDEXES"))
    rec("update condition fails", lambda: db.update_item(
        TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#02"}},
        UpdateExpression="SET #v = :v", ConditionExpression="#v = :old",
        ExpressionAttributeNames={"#v": "version"}, ExpressionAttributeValues={":v": {"N": "3"}, ":old": {"N": "9"}},
        ReturnValuesOnConditionCheckFailure="ALL_OLD"))
    rec("update invalid expression", lambda: db.update_item(
        TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#02"}}, UpdateExpression="SET = :v",
        ExpressionAttributeValues={":v": {"N": "3"}}))
    rec("update key attribute", lambda: db.update_item(
        TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#02"}}, UpdateExpression="SET pk = :v",
        ExpressionAttributeValues={":v": {"S": "other"}}))
    start = None
    for page in range(4):
        def query(start=start):
            kwargs = {"ExclusiveStartKey": start} if start else {}
            return db.query(TableName=table, KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
                            FilterExpression="n > :low", ExpressionAttributeValues={
                                ":p": {"S": "p#1"}, ":s": {"S": "s#"}, ":low": {"N": "1"}},
                            Limit=2, ScanIndexForward=False, ReturnConsumedCapacity="TOTAL", **kwargs)
        rec(f"query page {page}", query)
        try:
            start = query().get("LastEvaluatedKey")
        except ClientError:
            start = None
        if not start:
            break
    rec("query count", lambda: db.query(TableName=table, KeyConditionExpression="pk = :p", Select="COUNT",
                                        ExpressionAttributeValues={":p": {"S": "p#1"}}))
    rec("query index", lambda: db.query(TableName=table, IndexName="by-g", KeyConditionExpression="gk = :g",
                                        ProjectionExpression="pk, sk, n", ExpressionAttributeValues={":g": {"S": "g#1"}}))
    rec("query bad key", lambda: db.query(TableName=table, KeyConditionExpression="n = :g",
                                          ExpressionAttributeValues={":g": {"N": "1"}}))
    rec("scan filter", lambda: db.scan(TableName=table, FilterExpression="contains(ss, :a) AND size(l) > :two",
                                       ExpressionAttributeValues={":a": {"S": "a"}, ":two": {"N": "2"}}))
    rec("batch write", lambda: db.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": "p#3"}, "sk": {"S": f"s#{i}"}, "gk": {"S": "g#3"}}}} for i in range(3)
    ] + [{"DeleteRequest": {"Key": {"pk": {"S": "p#2"}, "sk": {"S": "s#06"}}}}]}, ReturnConsumedCapacity="TOTAL"))
    rec("batch get", lambda: db.batch_get_item(RequestItems={table: {
        "Keys": [{"pk": {"S": "p#3"}, "sk": {"S": f"s#{i}"}} for i in range(4)], "ConsistentRead": True}}))
    rec("transact write", lambda: db.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "p#4"}, "sk": {"S": "s#0"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "p#3"}, "sk": {"S": "s#0"}},
                    "UpdateExpression": "SET c = :c", "ExpressionAttributeValues": {":c": {"N": "1"}}}}],
        ClientRequestToken="same-token-both-runs"))
    rec("transact write cancelled", lambda: db.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "p#5"}, "sk": {"S": "s#0"}}}},
        {"ConditionCheck": {"TableName": table, "Key": {"pk": {"S": "p#4"}, "sk": {"S": "s#0"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}]))
    rec("transact get", lambda: db.transact_get_items(TransactItems=[
        {"Get": {"TableName": table, "Key": {"pk": {"S": "p#4"}, "sk": {"S": "s#0"}}}},
        {"Get": {"TableName": table, "Key": {"pk": {"S": "p#5"}, "sk": {"S": "s#0"}}}}]))
    rec("delete all_old", lambda: db.delete_item(TableName=table, Key={"pk": {"S": "p#1"}, "sk": {"S": "s#04"}},
                                                 ReturnValues="ALL_OLD"))
    rec("missing table", lambda: db.get_item(TableName=f"{table}-missing", Key={"pk": {"S": "x"}}))
    rec("describe", lambda: {k: v for k, v in db.describe_table(TableName=table)["Table"].items()
                             if k not in ("CreationDateTime", "TableId")})
    return out


def test_dynamodb_answers_are_the_same_through_the_direct_lane(aws):
    stubbed, used_off = _run_lane(False, _dynamodb_corpus)
    lane, used_on = _run_lane(True, _dynamodb_corpus)
    assert used_off == 0 and used_on >= len(lane)  # the lane really served the second run
    assert [label for label, _ in lane] == [label for label, _ in stubbed]
    for (label, got), (_, want) in zip(lane, stubbed):
        assert got == want, label
    kinds = {label: outcome[0] for label, outcome in lane}
    assert kinds["put again, condition fails"].startswith("error ConditionalCheckFailedException")
    assert kinds["transact write cancelled"].startswith("error TransactionCanceledException")
    assert kinds["missing table"].startswith("error ResourceNotFoundException")
    assert kinds["update invalid expression"].startswith("error ClientError")  # ValidationException
    cancelled = dict(lane)["transact write cancelled"][3]
    assert [r["Code"] for r in cancelled["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]


def _other_services_corpus():
    suffix = uuid.uuid4().hex[:8]
    names = {suffix: "SUFFIX"}
    out = []

    def rec(label, call):
        out.append((label, _outcome(call, names)))

    events = _client("events")
    sqs = _client("sqs")
    sfn = _client("stepfunctions")
    ses = _client("sesv2")
    secrets = _client("secretsmanager")
    sns = _client("sns")
    rec("bus", lambda: events.create_event_bus(Name=f"bus-{suffix}"))
    rec("put events", lambda: {"Failed": events.put_events(Entries=[
        {"EventBusName": f"bus-{suffix}", "Source": "polku", "DetailType": "t", "Detail": json.dumps({"a": 1})},
        {"EventBusName": f"bus-{suffix}", "Source": "polku", "DetailType": "t", "Detail": "not json"}])["FailedEntryCount"]})
    rec("queue", lambda: sqs.create_queue(QueueName=f"q-{suffix}", Attributes={"VisibilityTimeout": "5"}))
    url = sqs.get_queue_url(QueueName=f"q-{suffix}")["QueueUrl"]
    rec("queue arn", lambda: sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))
    rec("send", lambda: {k: v for k, v in sqs.send_message(QueueUrl=url, MessageBody="hello ä").items()
                         if k not in ("MessageId",)})
    rec("missing queue", lambda: sqs.get_queue_url(QueueName=f"none-{suffix}"))
    rec("identity", lambda: ses.create_email_identity(EmailIdentity=f"{suffix}@example.com"))
    rec("send email", lambda: sorted(ses.send_email(
        FromEmailAddress=f"{suffix}@example.com", Destination={"ToAddresses": ["a@example.com"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}})))
    rec("send email unverified", lambda: ses.send_email(
        FromEmailAddress=f"other-{suffix}@example.net", Destination={"ToAddresses": ["a@example.com"]},
        Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}}))
    rec("secret", lambda: {k: v for k, v in secrets.create_secret(Name=f"s-{suffix}", SecretString="x").items()
                           if k != "VersionId" and k != "ARN"})
    rec("get secret", lambda: {k: v for k, v in secrets.get_secret_value(SecretId=f"s-{suffix}").items()
                               if k in ("Name", "SecretString")})
    rec("missing secret", lambda: secrets.get_secret_value(SecretId=f"none-{suffix}"))
    rec("topic", lambda: sns.create_topic(Name=f"t-{suffix}"))
    rec("state machine missing", lambda: sfn.describe_state_machine(
        stateMachineArn=f"arn:aws:states:{REGION}:123456789012:stateMachine:none-{suffix}"))
    return out


def test_other_services_answer_the_same_through_the_direct_lane(aws):
    stubbed, used_off = _run_lane(False, _other_services_corpus)
    lane, used_on = _run_lane(True, _other_services_corpus)
    assert used_off == 0 and used_on > 0
    for (label, got), (_, want) in zip(lane, stubbed):
        assert got == want, label
    assert dict(lane)["missing secret"][0].startswith("error ResourceNotFoundException")


def test_the_lane_is_not_used_for_custom_endpoints_and_when_switched_off(aws):
    before = direct.calls_here()
    client = boto3.client("dynamodb", region_name=REGION, endpoint_url="http://127.0.0.1:9",
                          aws_access_key_id="twin", aws_secret_access_key="twin",
                          config=__import__("botocore.config").config.Config(
                              retries={"max_attempts": 0}, connect_timeout=0.2))
    with pytest.raises(Exception):  # nothing listens there: the call went to the network, not to moto
        client.list_tables()
    assert direct.calls_here() == before
    previous = direct.set_enabled(False)
    try:
        _client("dynamodb").list_tables()
    finally:
        direct.set_enabled(previous)
    assert direct.calls_here() == before
    _client("dynamodb").list_tables()
    assert direct.calls_here() == before + 1


def test_requests_carry_the_credential_scope_moto_reads(aws):
    """SQS takes its region from the Authorization header (its URLs are not regional for moto)."""
    sqs = boto3.client("sqs", region_name="eu-north-1", aws_access_key_id="twin", aws_secret_access_key="twin")
    url = sqs.create_queue(QueueName=f"scope-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert arn.startswith("arn:aws:sqs:eu-north-1:123456789012:")
    captured = []
    original = direct._dispatch

    def spy(route, request):
        captured.append(dict(request.headers))
        return original(route, request)

    direct._dispatch = spy
    try:
        sqs.list_queues()
    finally:
        direct._dispatch = original
    auth = captured[0]["Authorization"]
    auth = auth.decode() if isinstance(auth, bytes) else auth
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=twin/") and "/eu-north-1/sqs/aws4_request" in auth


@pytest.mark.parametrize("method, url, headers, body", [
    ("POST", "https://dynamodb.eu-west-1.amazonaws.com/",
     {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0",
      "User-Agent": "Boto3/1 md/x", "Content-Length": "17", "X-Amz-Date": "20260105T080000Z"},
     b'{"TableName":"t"}'),
    ("POST", "https://lambda.eu-west-1.amazonaws.com/2015-03-31/functions/polku-local-step/invocations",
     {"X-Amz-Invocation-Type": "RequestResponse", "Content-Type": "application/json"}, '{"a": "ä"}'),
    ("PUT", "https://s3.eu-west-1.amazonaws.com/bucket/a%20key/x?versionId=1&x=%2F",
     {"x-amz-meta-my_key": "v", "X-Amz-Meta-Other": "w", "Transfer-Encoding": "chunked"}, b"data"),
    ("POST", "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails",
     {"Content-Type": "application/json", "X-Dup": b"bytes value"}, b"{}"),
    ("POST", "https://events.eu-west-1.amazonaws.com/", {}, b"{}"),  # no content type
])
def test_fast_environ_is_werkzeugs(method, url, headers, body):
    from moto.core.request import Request

    want = Request.from_primitives(method, url, headers, body)
    got = direct.build_request(method, url, headers, body)
    assert got is not None
    assert got.environ["werkzeug.request"] is got and want.environ["werkzeug.request"] is want
    strip = lambda e: [(k, "<self>" if k == "werkzeug.request" else v)  # noqa: E731
                       for k, v in e.items() if k not in ("wsgi.input", "wsgi.errors")]
    assert strip(got.environ) == strip(want.environ)  # same keys, values and order
    assert got.get_data() == want.get_data()
    assert list(got.headers.items()) == list(want.headers.items())
    assert (got.raw_url, got.path, got.method, dict(got.args), got.content_type) == (
        want.raw_url, want.path, want.method, dict(want.args), want.content_type)


@pytest.mark.parametrize("headers, body", [
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"Action=List"),  # werkzeug parses forms
    ({"Content-Type": "application/json"}, b""),  # empty bodies: werkzeug's own rules
    ({"Content-Type": "application/json"}, None),
    ({"Content-Type": "application/json"}, io.BytesIO(b"{}")),
])
def test_fast_environ_leaves_other_requests_to_werkzeug(headers, body):
    assert direct.build_request("POST", "https://sqs.eu-west-1.amazonaws.com/", headers, body) is None


def test_lambda_invoke_answers_the_same_through_the_direct_lane(twin, monkeypatch):
    """Invoke has a streaming payload both ways; the real handler runs in-process (twin/lambda_runtime.py)."""
    _in_process(monkeypatch)
    fn = twin.names["JourneyStepFunction"]
    lam = twin.client("lambda")

    def corpus():
        out = []
        for label, kwargs in [
            ("unknown action", {"FunctionName": fn, "Payload": json.dumps({"action": "nope"})}),
            ("bad input", {"FunctionName": fn, "Payload": b"[1, 2]"}),
            ("event invocation", {"FunctionName": fn, "InvocationType": "Event", "Payload": b"{}"}),
            ("missing function", {"FunctionName": f"{fn}-missing", "Payload": b"{}"}),
        ]:
            def call(kwargs=kwargs):
                response = lam.invoke(**kwargs)
                response["Payload"] = response["Payload"].read().decode()
                return response
            out.append((label, _outcome(call, {})))
        return out

    before = direct.state["services"].get("awslambda", 0)
    stubbed, used_off = _run_lane(False, corpus)
    lane, used_on = _run_lane(True, corpus)
    assert used_off == 0 and direct.state["services"].get("awslambda", 0) - before >= 4
    for (label, got), (_, want) in zip(lane, stubbed):
        assert got == want, label
    unknown = dict(lane)["unknown action"]
    assert unknown[0] == "ok" and unknown[3]["FunctionError"]  # the handler raised
    assert "action: must be one of" in json.loads(unknown[3]["Payload"])["errorMessage"]
    assert dict(lane)["missing function"][0].startswith("error ResourceNotFoundException")


@pytest.mark.parametrize("method, url, headers, body", [
    ("POST", "https://dynamodb.eu-west-1.amazonaws.com/",
     {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0",
      "User-Agent": "Boto3/1 md/x", "Content-Length": "17", "X-Amz-Date": "20260105T080000Z",
      "Authorization": b"AWS4-HMAC-SHA256 Credential=twin/20260105/eu-west-1/dynamodb/aws4_request"},
     b'{"TableName":"t"}'),
    ("POST", "https://dynamodb.eu-west-1.amazonaws.com/?x=1&y=%2F",
     {"Content-Type": "application/x-amz-json-1.0", "x-amz-meta-my_key": "v", "X-Dup": "a"},
     '{"Key": "ä = & Action=Scan"}'),
])
def test_light_moto_request_reads_as_werkzeugs(method, url, headers, body):
    """What moto's setup_class and parse_parameters read is the same on the stand-in and on werkzeug's Request."""
    from moto.core.request import Request

    want = Request.from_primitives(method, url, headers, body)
    got = direct.light_moto_request(method, url, headers, body)
    assert got is not None
    for name in ("method", "raw_url", "raw_path", "path", "content_type", "content_encoding", "from_wsgi_server"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.data == want.data == want.get_data()
    for name in ("form", "files", "args", "values"):
        assert type(getattr(got, name)) is type(getattr(want, name)), name
        assert list(getattr(got, name).items(multi=True)) == list(getattr(want, name).items(multi=True)), name
    assert list(got.headers.items()) == list(want.headers.items())
    assert type(got.headers) is type(want.headers)
    strip = lambda e: [(k, v) for k, v in e.items()  # noqa: E731
                       if k not in ("wsgi.input", "wsgi.errors", "werkzeug.request")]
    assert sorted(strip(got.environ)) == sorted(strip(want.environ))


@pytest.mark.parametrize("headers, body", [
    ({"Content-Type": "application/x-www-form-urlencoded"}, b"Action=List"),
    ({"Content-Type": "application/x-amz-json-1.0", "Content-Encoding": "gzip"}, b"\x1f\x8b"),
    ({"Content-Type": "text/plain"}, b"{}"),
    ({}, b"{}"),  # no content type
    ({"Content-Type": "application/json"}, b""),
])
def test_light_moto_request_leaves_other_requests_to_werkzeug(headers, body):
    assert direct.light_moto_request("POST", "https://dynamodb.eu-west-1.amazonaws.com/", headers, body) is None


def test_dynamodb_setup_is_the_same_on_the_stand_in(aws):
    """moto's DynamoHandler ends setup_class in the same state from either request."""
    from moto.core.request import Request
    from moto.dynamodb.responses import DynamoHandler

    url = "https://dynamodb.eu-west-1.amazonaws.com/"
    headers = {"X-Amz-Target": "DynamoDB_20120810.PutItem", "Content-Type": "application/x-amz-json-1.0",
               "User-Agent": "Boto3/1.40 md/Botocore#1.40 region/eu-west-1",
               "Authorization": "AWS4-HMAC-SHA256 Credential=twin/20260105/eu-west-1/dynamodb/aws4_request, "
                                "SignedHeaders=host, Signature=0"}
    body = json.dumps({"TableName": "t", "Item": {"pk": {"S": "a=b&c"}, "bin": {"B": "AAE="}},
                       "ConditionExpression": "attribute_not_exists(pk)"}).encode()
    states = []
    for request in (Request.from_primitives("POST", url, headers, body),
                    direct.light_moto_request("POST", url, headers, body)):
        handler = DynamoHandler()
        handler.setup_class(request, request.raw_url, request.headers)
        state = {k: v for k, v in vars(handler).items() if k not in ("normalized_request", "headers", "response_headers")}
        state["headers"] = list(handler.headers.items())
        state["response_header_names"] = sorted(handler.response_headers)
        states.append(state)
    assert states[0] == states[1]
    assert states[1]["params"]["Item"]["bin"] == {"B": b"\x00\x01"}
