"""State-machine definitions are validated by moto's parser once per text (src/polku/twin/asl_validation.py)."""

from __future__ import annotations

import json
import uuid

import pytest
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from polku.twin import asl_validation


@pytest.fixture
def parses(monkeypatch):
    asl_validation.apply()
    calls = []
    original = asl_parser.AmazonStateLanguageParser.parse

    def counting(definition):
        calls.append(definition)
        return original(definition)

    monkeypatch.setattr(asl_parser.AmazonStateLanguageParser, "parse", staticmethod(counting))
    return calls


def _definition() -> str:
    return json.dumps({"StartAt": "S", "States": {"S": {"Type": "Pass", "Comment": uuid.uuid4().hex, "End": True}}})


def _error(definition):
    try:
        StepFunctionsParserBackend._validate_definition(definition=definition)
    except Exception as exc:  # noqa: BLE001 - compared below
        return type(exc).__name__, str(exc)
    return None


def test_a_text_that_parsed_is_not_parsed_again(parses):
    text = _definition()
    assert _error(text) is None and len(parses) == 1
    assert _error(text) is None and len(parses) == 1
    assert text in asl_validation.known()
    other = _definition()
    assert _error(other) is None and len(parses) == 2


def test_an_invalid_text_is_parsed_and_refused_every_time_as_by_moto(parses):
    bad = json.dumps({"StartAt": "S", "States": {"S": {"Type": "Nope"}}, "x": uuid.uuid4().hex})
    original = StepFunctionsParserBackend._validate_definition.__wrapped__
    try:
        original(definition=bad)
        want = None
    except Exception as exc:  # noqa: BLE001
        want = (type(exc).__name__, str(exc))
    assert want is not None and want[0] == "InvalidDefinition"
    before = len(parses)
    assert _error(bad) == want
    assert _error(bad) == want
    assert len(parses) == before + 2
    assert bad not in asl_validation.known()


def test_texts_learnt_from_another_process_are_not_parsed(parses):
    text = _definition()
    asl_validation.learn([text, 3])
    assert _error(text) is None and parses == []
