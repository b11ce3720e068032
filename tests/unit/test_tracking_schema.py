"""The published JSON Schema is generated from the code's tables and agrees with validation."""

import copy
import datetime as dt
import json
from importlib import resources

import jsonschema
import pytest

from polku.tracking import event_schema
from polku.tracking.validation import Invalid, validate
from pathlib import Path

EXAMPLES = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "api_event_examples.json").read_text())
VALID = {t: e["properties"] for t, e in EXAMPLES.items()}


def event(etype):
    return copy.deepcopy(EXAMPLES[etype])

NOW = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def published():
    return json.loads(resources.files("polku.tracking").joinpath(event_schema.SCHEMA_FILE).read_text())


def test_published_schema_is_current():
    assert published() == event_schema.json_schema(), "run: python -m polku.tracking.event_schema"


def test_published_schema_is_a_valid_schema():
    jsonschema.Draft202012Validator.check_schema(published())


@pytest.mark.parametrize("etype", sorted(VALID))
def test_schema_and_code_agree_on_examples(etype):
    checker = jsonschema.Draft202012Validator(published())
    good = {"events": [event(etype)]}
    assert not list(checker.iter_errors(good))
    validate(good["events"][0], NOW)
    for p in event_schema.EVENT_TYPES[etype].props:
        if p.required:
            bad = copy.deepcopy(good)
            del bad["events"][0]["properties"][p.name]
            assert list(checker.iter_errors(bad)), f"schema accepts {etype} without {p.name}"
            with pytest.raises(Invalid):
                validate(bad["events"][0], NOW)


def test_published_openapi_is_current_and_valid():
    from openapi_spec_validator import validate as validate_spec

    from polku.tracking import api_spec

    text = resources.files("polku.tracking").joinpath(api_spec.SPEC_FILE).read_text()
    assert json.loads(text) == api_spec.openapi(), "run: python -m polku.tracking.api_spec"
    validate_spec(json.loads(text))


def test_openapi_paths_are_the_tracking_routes(template):
    from polku.tracking import api_spec

    spec_routes = {(path, method.upper()) for path, ops in api_spec.openapi()["paths"].items() for method in ops}
    routes = {(r.path, r.method) for r in template.api_routes() if r.path in {p for p, _ in spec_routes}}
    assert spec_routes == routes
