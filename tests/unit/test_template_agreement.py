"""template.yaml is the single source of truth: code must agree with it."""

from __future__ import annotations

import ast
import dataclasses
import json
import re

import pytest

from polku.settings import Settings
from polku.twin.template import Resolver, parameter_defaults


def _tables(template):
    rv = Resolver(parameters={**parameter_defaults(template, {"Stage": "local"}), "AWS::AccountId": "123456789012"})
    out = {}
    for lid, res in template.of_type("AWS::DynamoDB::Table").items():
        p = rv.resolve(res["Properties"])
        out[p["TableName"]] = p
    return out


def _keys(schema):
    return {k["KeyType"]: k["AttributeName"] for k in schema}


def test_every_pynamodb_model_matches_its_table(template):
    import polku.data.catalog  # noqa: F401 - register models
    import polku.data.enrollments  # noqa: F401
    import polku.data.events  # noqa: F401
    import polku.data.identities  # noqa: F401
    import polku.data.journey_state  # noqa: F401
    import polku.data.messages  # noqa: F401
    import polku.data.profiles  # noqa: F401
    import polku.data.rate_limits  # noqa: F401
    import polku.data.suppressions  # noqa: F401
    from polku.data.base import MODELS

    tables = _tables(template)
    assert MODELS, "no models registered"
    for model in MODELS:
        name = getattr(Settings(), model.settings_field)
        assert name in tables, f"{model.__name__}: table {name} is not in template.yaml"
        table = tables[name]
        model_keys = {}
        for attr_name, attr in model.get_attributes().items():
            if attr.is_hash_key:
                model_keys["HASH"] = attr.attr_name
            if attr.is_range_key:
                model_keys["RANGE"] = attr.attr_name
        assert model_keys == _keys(table["KeySchema"]), f"{model.__name__}: keys differ from template.yaml"
        template_gsis = {g["IndexName"]: _keys(g["KeySchema"]) for g in table.get("GlobalSecondaryIndexes", [])}
        model_gsis = {}
        for idx in model._indexes.values():
            keys = {}
            for attr in idx.Meta.attributes.values():
                keys["HASH" if attr.is_hash_key else "RANGE"] = attr.attr_name
            model_gsis[idx.Meta.index_name] = keys
        assert model_gsis == template_gsis, f"{model.__name__}: GSIs differ from template.yaml"


def test_every_table_has_a_model(template):
    """No table is provisioned (and paid for, and granted) that no code uses."""
    from polku.data.base import MODELS

    modelled = {getattr(Settings(), m.settings_field) for m in MODELS}
    missing = set(_tables(template)) - modelled
    assert missing == set(), f"tables without a model: {sorted(missing)}"


def test_settings_fields_equal_the_environment_keys(template):
    keys = set()
    for lid in template.of_type("AWS::Serverless::Function"):
        keys |= set(template.function_properties(lid)["Environment"]["Variables"])
    fields = {f.name.upper() for f in dataclasses.fields(Settings)}
    assert keys - fields == set(), f"env keys without a settings field: {sorted(keys - fields)}"
    assert fields - keys == set(), f"settings fields no function gets: {sorted(fields - keys)}"


def test_settings_read_from_env_only_known_fields():
    s = Settings.from_env({"EVENTS_TABLE": "t1", "UNRELATED": "x"})
    assert s.events_table == "t1"


def _chalice_routes(path):
    tree = ast.parse(path.read_text())
    routes = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            for dec in node.decorator_list:
                if isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "route":
                    route = dec.args[0].value
                    methods = ["GET"]
                    for kw in dec.keywords:
                        if kw.arg == "methods":
                            methods = [e.value for e in kw.value.elts]
                    routes |= {(route, m) for m in methods}
    return routes


def test_chalice_routes_equal_the_template_api_events(template):
    from polku.twin.template import Template  # noqa: F401

    by_function = {}
    for r in template.api_routes():
        by_function.setdefault(r.function, set()).add((r.path, r.method))
    for fid, declared in by_function.items():
        props = template.function_properties(fid)
        module = props["Handler"].rsplit(".", 1)[0]
        app_file = template.root / props["CodeUri"] / f"{module}.py"
        assert _chalice_routes(app_file) == declared, f"{fid}: Chalice routes and template Api events differ"


def test_chalice_app_object_is_importable_and_routes_match(template, twin):
    # The real app object (imported as the twin does) has exactly the template's routes.
    from polku.twin import lambda_runtime

    spec = lambda_runtime.registered()[twin.names["TrackApiFunction"]]
    app = spec.load()
    actual = {(path, m) for path, entry in app.routes.items() for m in entry}
    declared = {(r.path, r.method) for r in template.api_routes() if r.function == "TrackApiFunction"}
    assert actual == declared


def test_every_function_handler_exists(template):
    for lid in template.of_type("AWS::Serverless::Function"):
        props = template.function_properties(lid)
        module, attr = props["Handler"].rsplit(".", 1)
        path = template.root / props["CodeUri"] / f"{module}.py"
        assert path.is_file(), f"{lid}: {path} missing"
        names = {n.name for n in ast.parse(path.read_text()).body if isinstance(n, (ast.FunctionDef, ast.Assign)) and hasattr(n, "name")}
        names |= {t.id for n in ast.parse(path.read_text()).body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        assert attr in names, f"{lid}: {attr} is not defined in {path}"


def _journey_substitutions(template) -> dict:
    rv = Resolver(parameters=parameter_defaults(template))
    for lid in template.resources:
        rv.attrs[(lid, "Arn")] = f"<{lid}>"
    return json.loads(rv.resolve(template.outputs["JourneySubstitutions"]["Value"]))


def test_state_machine_substitutions_are_declared(template):
    for lid, res in template.of_type("AWS::Serverless::StateMachine").items():  # the stack's own state machines
        p = res["Properties"]
        text = (template.root / p["DefinitionUri"]).read_text()
        json.loads(text)
        used = set(re.findall(r"\$\{(\w+)\}", text))
        declared = set(p.get("DefinitionSubstitutions", {}))
        assert used <= declared, f"{lid}: undeclared substitutions {sorted(used - declared)}"


def test_journey_substitutions_are_provided_and_journeys_are_not_declared(template):
    """Every ${Name} of every journey is one the stack provides (JourneySubstitutions); no journey
    is a template resource (it is published: polku journeys publish)."""
    declared = set(_journey_substitutions(template))
    files = sorted((template.root / "statemachines").glob("*.asl.json"))
    in_template = {str(r["Properties"]["DefinitionUri"]) for r in template.of_type("AWS::Serverless::StateMachine").values()}
    assert files and not in_template & {f"statemachines/{p.name}" for p in files}
    for path in files:
        text = path.read_text()
        json.loads(text)
        used = set(re.findall(r"\$\{(\w+)\}", text))
        assert used <= declared, f"{path.name}: undeclared substitutions {sorted(used - declared)}"


def test_the_journeys_role_invokes_exactly_the_functions_they_name(template):
    """Least privilege: the one journey role may invoke the substituted functions and nothing else."""
    subs = _journey_substitutions(template)
    role = template.resources["JourneyExecutionRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    invoke = [s for s in statements if "lambda:InvokeFunction" in str(s["Action"])]
    assert len(invoke) == 1
    granted = {r["Fn::GetAtt"][0] for r in invoke[0]["Resource"]}
    assert {f"<{lid}>" for lid in granted} == set(subs.values())
    for s in statements:
        if s["Resource"] == "*":
            assert all(a.startswith(("logs:", "xray:")) for a in s["Action"]), s


def test_the_publisher_policy_passes_only_the_journeys_role(template):
    doc = template.resources["JourneyPublisherPolicy"]["Properties"]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    assert by_sid["PassTheJourneyRoleOnly"]["Resource"] == {"Fn::GetAtt": ["JourneyExecutionRole", "Arn"]}
    assert by_sid["PassTheJourneyRoleOnly"]["Condition"]["StringEquals"]["iam:PassedToService"] == "states.amazonaws.com"
    assert set(by_sid["JourneyStateMachines"]["Action"]) == {
        "states:CreateStateMachine", "states:UpdateStateMachine", "states:DescribeStateMachine",
        "states:PublishStateMachineVersion"}
    assert set(by_sid["LiveAlias"]["Action"]) == {
        "states:CreateStateMachineAlias", "states:UpdateStateMachineAlias", "states:DescribeStateMachineAlias"}
    assert by_sid["LiveAlias"]["Resource"][0]["Fn::Sub"].endswith(":stateMachine:polku-${Stage}-*:live")
    assert by_sid["Registry"]["Resource"] == {"Fn::Sub": "${JourneysBucket.Arn}/registry.yaml"}
    for s in doc["Statement"]:
        if s["Resource"] == "*":
            assert all(a.startswith("logs:") for a in s["Action"]), s


@pytest.mark.parametrize("lid", ["RecommendFunction", "TrainFunction"])
def test_heavy_layer_only_where_used(template, lid):
    layers = [str(x) for x in template.function_properties(lid)["Layers"]]
    assert any("RecommendLayer" in x for x in layers)


def test_no_other_function_carries_the_recommend_layer(template):
    for lid in template.of_type("AWS::Serverless::Function"):
        if lid in ("RecommendFunction", "TrainFunction"):
            continue
        layers = [str(x) for x in template.function_properties(lid).get("Layers", [])]
        assert not any("RecommendLayer" in x for x in layers), lid
