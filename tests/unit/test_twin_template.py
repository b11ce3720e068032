"""Reading template.yaml: short tags, intrinsics, Globals, routes."""

from __future__ import annotations

import pytest

from polku.twin.template import ApiRoute, Resolver, Template, TemplateError, load_yaml


def test_short_tags_become_intrinsics(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("Resources:\n  A:\n    Type: X\n    Properties:\n      N: !Sub 'a-${Stage}'\n"
                 "      R: !Ref B\n      G: !GetAtt B.Arn\n      L: !Join [',', [a, b]]\n")
    props = load_yaml(p)["Resources"]["A"]["Properties"]
    assert props == {"N": {"Fn::Sub": "a-${Stage}"}, "R": {"Ref": "B"}, "G": {"Fn::GetAtt": ["B", "Arn"]},
                     "L": {"Fn::Join": [",", ["a", "b"]]}}


def test_resolver_handles_sub_forms_and_reports_unknowns():
    rv = Resolver(parameters={"Stage": "dev", "AWS::Region": "eu-west-1"}, refs={"Q": "q-url"},
                  attrs={("Q", "Arn"): "arn:q"})
    assert rv.resolve({"Fn::Sub": "x-${Stage}-${AWS::Region}-${Q.Arn}-${!Literal}"}) == "x-dev-eu-west-1-arn:q-${Literal}"
    assert rv.resolve({"Fn::Sub": ["${A}/${Q}", {"A": {"Ref": "Stage"}}]}) == "dev/q-url"
    assert rv.resolve({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}) == "b"
    with pytest.raises(TemplateError, match="Nope"):
        rv.resolve({"Ref": "Nope"})
    with pytest.raises(TemplateError, match="Q.StreamArn"):
        rv.resolve({"Fn::GetAtt": ["Q", "StreamArn"]})


def test_not_a_template_is_refused_with_the_path(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("just: text\n")
    with pytest.raises(TemplateError, match=str(p)):
        Template.load(p)


def test_route_matching_binds_path_parameters():
    r = ApiRoute(function="F", event="E", path="/v1/journeys/{journey}/enrollments", method="POST")
    assert r.match("/v1/journeys/welcome/enrollments") == {"journey": "welcome"}
    assert r.match("/v1/journeys/a/b/enrollments") is None
    assert r.match("/v1/journeys/welcome/enrollments/x") is None


def test_globals_merge_into_function_properties(template):
    props = template.function_properties("SendFunction")
    env = props["Environment"]["Variables"]
    assert "EVENTS_TABLE" in env and "SENDER_EMAIL" in env  # global + own
    assert props["Runtime"] == "python3.13" and props["Timeout"] == 60  # own value wins
