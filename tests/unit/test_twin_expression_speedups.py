"""The twin's quicker update-expression checks give moto's own results and errors.

The same corpus of UpdateItem calls (new and existing items, nested paths, list indexes,
functions, arithmetic, REMOVE/ADD/DELETE, and every kind of error the validator raises) runs
in two fresh processes: one with moto as it is, one with
``polku.twin.patches.moto_update_expressions``. Each call runs twice in a row, so the patched
process also answers from its caches (the parsed tree, the checks that already passed).
Both processes must produce the same items and the same errors, in the same order.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from polku.twin import patches

HERE = Path(__file__).resolve()
REPO = HERE.parents[2]

NAMES12 = {f"#n{i}": f"field{i}" for i in range(12)}
VALUES12 = {f":v{i}": {"S": f"value {i}"} for i in range(12)}
SET12 = "SET " + ", ".join(f"#n{i} = :v{i}" for i in range(12))

BASE = {
    "n": {"N": "5"},
    "s": {"S": "text"},
    "m": {"M": {"b": {"M": {"c": {"S": "deep"}}}, "x": {"N": "1"}}},
    "l": {"L": [{"S": "zero"}, {"S": "one"}, {"S": "two"}, {"S": "three"}]},
    "ss": {"SS": ["a", "b", "c"]},
}

# (name, item before or None, update expression, names, values)
CASES = [
    ("twelve SETs on a new item", None, SET12, NAMES12, VALUES12),
    ("twelve SETs on an existing item", BASE, SET12, NAMES12, VALUES12),
    ("nested map and list index", BASE, "SET m.b.c = :v, l[1] = :w, m.#x = :v", {"#x": "x"},
     {":v": {"S": "new"}, ":w": {"N": "7"}}),
    ("functions and arithmetic", BASE,
     "SET n = n + :one, cnt = if_not_exists(cnt, :zero), l = list_append(l, :more), s2 = :s",
     None, {":one": {"N": "1"}, ":zero": {"N": "0"}, ":more": {"L": [{"S": "four"}]}, ":s": {"S": "x"}}),
    ("REMOVE attributes and list indexes", BASE, "REMOVE s, l[0], l[2], m.b", None, None),
    ("ADD", BASE, "ADD n :one, ss :more", None, {":one": {"N": "2"}, ":more": {"SS": ["d"]}}),
    ("DELETE", BASE, "DELETE ss :less", None, {":less": {"SS": ["a"]}}),
    ("ADD and DELETE on one set", BASE, "ADD ss :more DELETE ss :less", None,
     {":more": {"SS": ["d"]}, ":less": {"SS": ["a"]}}),
    ("SET and REMOVE together", BASE, "SET a = :v REMOVE s", None, {":v": {"BOOL": True}}),
    # errors
    ("two SET clauses", BASE, "SET a = :v SET b = :v", None, {":v": {"S": "x"}}),
    ("two REMOVE clauses", BASE, "REMOVE s REMOVE n", None, None),
    ("overlapping paths", BASE, "SET m = :v, m.b = :v", None, {":v": {"S": "x"}}),
    ("the same attribute twice", BASE, "SET a = :v, a = :w", None, {":v": {"S": "x"}, ":w": {"S": "y"}}),
    ("the same name twice", BASE, "SET #a = :v, #a = :w", {"#a": "a"}, {":v": {"S": "x"}, ":w": {"S": "y"}}),
    ("the hash key", BASE, "SET pk = :v", None, {":v": {"S": "x"}}),
    ("the hash key by name", BASE, "SET #k = :v", {"#k": "pk"}, {":v": {"S": "x"}}),
    # the same text and names, other values: the first passes, then one that must fail
    ("a name that is not the key", BASE, "SET #k = :v", {"#k": "other"}, {":v": {"S": "x"}}),
    ("the range key by name", BASE, "SET #k = :v", {"#k": "sk"}, {":v": {"S": "x"}}),
    ("adding a string to a number", BASE, "SET n = n + :s", None, {":s": {"S": "x"}}),
    ("a path that does not exist", BASE, "SET a = nothere.b", None, None),
    ("an undefined value", BASE, "SET a = :nope", None, {":v": {"S": "x"}}),
    ("an undefined name", BASE, "SET #nope = :v", {"#a": "a"}, {":v": {"S": "x"}}),
    ("a syntax error", BASE, "SET = :v", None, {":v": {"S": "x"}}),
    ("an unknown function", BASE, "SET a = no_such(:v)", None, {":v": {"S": "x"}}),
    ("an item too large", None, "SET big = :v", None, {":v": {"S": "x" * 410_000}}),
    ("after the errors, twelve SETs again", BASE, SET12, NAMES12, VALUES12),
]


def _run_corpus(patched: bool) -> list:
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-north-1")
    from moto import mock_aws

    out = []
    with mock_aws():
        if patched:
            from polku.twin import patches

            patches.apply_one("moto_update_expressions")
        import boto3
        from moto.dynamodb.models import dynamodb_backends

        client = boto3.client("dynamodb", region_name="eu-north-1")
        tables = {
            "hash": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "hash_range": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        }
        for table, schema in tables.items():
            client.create_table(
                TableName=table, KeySchema=schema, BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": k["AttributeName"], "AttributeType": "S"} for k in schema],
            )
        account = boto3.client("sts", region_name="eu-north-1").get_caller_identity()["Account"]
        backend = dynamodb_backends[account]["eu-north-1"]
        for table, schema in tables.items():
            for number, (name, before, expression, names, values) in enumerate(CASES):
                for attempt in range(2):
                    key = {"pk": {"S": f"{number}-{attempt}"}}
                    if len(schema) == 2:
                        key["sk"] = {"S": "r"}
                    if before is not None:
                        client.put_item(TableName=table, Item={**key, **before})
                    try:
                        item = backend.update_item(table, key, expression, names or {}, values or {})
                        result = {"item": item.to_json()}
                    except Exception as exc:  # noqa: BLE001 - the error is the result compared
                        result = {"error": type(exc).__name__, "message": str(exc)}
                    stored = backend.get_item(table, {k: v for k, v in key.items()})
                    result["stored"] = stored.to_json() if stored is not None else None
                    out.append([table, name, attempt, result])
    return out


def _corpus_in_fresh_process(patched: bool) -> list:
    # A clean AWS environment: other tests may point AWS_ENDPOINT_URL* at DynamoDB Local.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
                "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])})
    proc = subprocess.run(
        [sys.executable, str(HERE), "--patched" if patched else "--moto"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def both():
    return _corpus_in_fresh_process(patched=False), _corpus_in_fresh_process(patched=True)


def test_same_items_and_errors_as_moto(both):
    moto_results, patched_results = both
    assert len(moto_results) == 2 * 2 * len(CASES)
    for expected, got in zip(moto_results, patched_results):
        assert got == expected, f"{expected[0]} / {expected[1]} / attempt {expected[2]}"


def test_corpus_covers_successes_and_every_kind_of_error(both):
    moto_results, _ = both
    errors = {r[3].get("error") for r in moto_results}
    # The corpus must exercise the checks the speed-ups touch, or the comparison says little.
    assert errors == {None, "TooManyClauses", "DuplicateUpdateExpression", "UpdateHashRangeKeyException",
                      "IncorrectOperandType", "AttributeDoesNotExist", "ExpressionAttributeValueNotDefined",
                      "KeyError", "InvalidTokenException", "ItemSizeToUpdateTooLarge"}, errors
    assert sum(1 for r in moto_results if "item" in r[3]) >= 2 * 2 * 10
    by_name = {(r[0], r[1], r[2]): r[3] for r in moto_results}
    # the same expression text and names: allowed for a non-key attribute, refused for the key
    assert "item" in by_name[("hash", "a name that is not the key", 1)]
    assert by_name[("hash_range", "the range key by name", 1)]["error"] == "UpdateHashRangeKeyException"
    assert "item" in by_name[("hash", "the range key by name", 0)]  # no range key in that table


def _update_ast(expression):
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    return UpdateExpressionParser.make(expression)


def _dump(node):
    from moto.dynamodb.parsing.ast_nodes import Node

    if isinstance(node, Node):
        return (type(node).__name__, id(node), id(node.parent), [_dump(c) for c in node.children or []])
    return repr(node)


def test_kept_update_expression_trees_are_not_changed_by_update_item():
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    patches.apply_one("moto_update_expressions")
    expressions = [
        "SET n = n + :one, l = list_append(if_not_exists(l, :empty), :more), #m.k = :v REMOVE gone ADD tags :tags",
        "SET a = :v, b = :v",
        "SET a = :v REMOVE a",  # overlapping paths: refused
        "SET pk = :v",  # a key attribute: refused
        "SET n = n + :text",  # type mismatch: refused
        "ADD n :one DELETE tags :tags",
    ]
    with mock_aws():
        db = boto3.client("dynamodb", region_name="eu-west-1", aws_access_key_id="t", aws_secret_access_key="t")
        table = f"kept-{__import__('uuid').uuid4().hex[:8]}"
        db.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        db.put_item(TableName=table, Item={"pk": {"S": "k"}, "n": {"N": "1"}, "m": {"M": {}}, "gone": {"S": "x"}})
        values = {":one": {"N": "1"}, ":empty": {"L": []}, ":more": {"L": [{"S": "w"}]}, ":v": {"S": "v"},
                  ":tags": {"SS": ["t"]}, ":text": {"S": "t"}}
        kept = {}
        outcomes = []
        for round_ in range(2):
            for expression in expressions:
                used = {k: v for k, v in values.items() if k in expression}
                names = {"#m": "m"} if "#m" in expression else {}
                try:
                    db.update_item(TableName=table, Key={"pk": {"S": "k"}}, UpdateExpression=expression,
                                   ExpressionAttributeValues=used, **({"ExpressionAttributeNames": names} if names else {}))
                    outcomes.append((round_, expression, "ok"))
                except ClientError as e:
                    outcomes.append((round_, expression, e.response["Error"]["Message"]))
                ast = UpdateExpressionParser.make(expression)
                if round_ == 0:
                    kept[expression] = (ast, _dump(ast))
                else:
                    assert ast is kept[expression][0]  # the kept tree was used again
                    assert _dump(ast) == kept[expression][1]  # and nothing changed it
        fresh = {e: _dump(UpdateExpressionParser._polku_moto_make(e)) for e in expressions}
        assert {e: _shape(v[1]) for e, v in kept.items()} == {e: _shape(v) for e, v in fresh.items()}
    assert [o[2] for o in outcomes if o[0] == 0][2:5] == [o[2] for o in outcomes if o[0] == 1][2:5]
    assert all(o[2] != "ok" for o in outcomes if o[1] in expressions[2:5])


def _shape(dump):
    """A tree dump without object ids (a fresh parse has other objects)."""
    if isinstance(dump, tuple):
        return (dump[0], [_shape(c) for c in dump[3]])
    return dump


def _state(value, seen=None):
    """A comparable picture of an object graph: types, attributes and which parts are shared."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    seen = {} if seen is None else seen
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if id(value) in seen:
        return ("ref", seen[id(value)])
    seen[id(value)] = len(seen)
    if isinstance(value, list):
        return ["list", [_state(v, seen) for v in value]]
    if isinstance(value, dict):
        return ["dict", [(_state(k, seen), _state(v, seen)) for k, v in value.items()]]
    if isinstance(value, DynamoType):
        return ["DynamoType", value.type, repr(value.value)]
    return [type(value).__name__, _state(vars(value), seen)]


@pytest.mark.parametrize("expression", [
    "SET a = :a",
    "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(12)) + " REMOVE x, y[2] ADD c :one DELETE s :s",
    "SET a = if_not_exists(a, :z) + :one, l = list_append(l, :more), m.n[3].o = :p - :q",
])
def test_tree_copy_is_deepcopys_copy(expression, monkeypatch):
    import copy

    from moto.dynamodb.parsing.ast_nodes import Node

    patches.apply_one("moto_update_expressions")
    ast = _update_ast(expression)
    got = copy.deepcopy(ast)
    with monkeypatch.context() as m:
        m.delattr(Node, "__deepcopy__")
        want = copy.deepcopy(ast)
    assert _state(got) == _state(want) == _state(ast)
    originals = set()
    stack = [ast]
    while stack:
        node = stack.pop()
        originals.add(id(node))
        stack.extend(c for c in getattr(node, "children", None) or [] if hasattr(c, "children"))
    stack = [got]
    while stack:  # a copy: no node of the original is in it
        node = stack.pop()
        assert id(node) not in originals
        stack.extend(c for c in getattr(node, "children", None) or [] if hasattr(c, "children"))
    assert got.children[0].parent is got  # parent links point into the copy


def test_tree_copy_leaves_node_classes_with_hooks_to_deepcopy():
    import copy

    from moto.dynamodb.parsing.ast_nodes import LeafNode

    patches.apply_one("moto_update_expressions")

    class Sloted(LeafNode):  # a node class with copy hooks of its own: deepcopy's own path
        def __getstate__(self):
            state = dict(self.__dict__)
            state["copied_by_hook"] = True
            return state

    node = Sloted(children=["x"])
    copied = copy.deepcopy(node)
    assert copied.copied_by_hook is True and copied.children == ["x"] and copied.children is not node.children

    class Plain(LeafNode):
        pass

    plain = Plain(children=[["y"]])
    clone = copy.deepcopy(plain)
    assert not hasattr(clone, "copied_by_hook") and clone.children == [["y"]] and clone.children[0] is not plain.children[0]


if __name__ == "__main__":
    json.dump(_run_corpus(patched=sys.argv[1:] == ["--patched"]), sys.stdout)
