"""The send step's typed input: a clear error names the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from polku.messaging.send_message import SendInput, SendInputError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load_fixture(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_fixture_parses():
    inp = SendInput.parse(load_fixture("stepfunctions_send_welcome.json"))
    assert (inp.customer_id, inp.journey, inp.step, inp.template, inp.variant) == (
        "c-fixture-1", "welcome", "SendWelcome", "welcome", "B")
    assert inp.editable == {"intro": "Tervetuloa myymäläämme Kamppiin!"}
    assert inp.scheduled_at == "2026-01-05T18:00:00.000Z" and len(inp.recommendations) == 1


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda e: e.pop("customer_id"), "customer_id"),
        (lambda e: e.pop("execution_id"), "execution_id"),
        (lambda e: e.update(step=""), "step"),
        (lambda e: e.update(template=7), "template"),
        (lambda e: e.update(message_type="spam"), "message_type"),
        (lambda e: e.update(channel="fax"), "channel"),
        (lambda e: e.update(context=[1]), "context"),
        (lambda e: e.update(context={"x": "y" * 70000}), "context"),
        (lambda e: e.update(recommendations={"a": 1}), "recommendations"),
        (lambda e: e.update(recommendations=[1]), "recommendations[0]"),
        (lambda e: e.update(recommendations=[{}] * 51), "recommendations"),
        (lambda e: e.update(recommend={"count": 3}), "recommend.strategy"),
        (lambda e: e.update(editable={"intro": 5}), "editable.intro"),
        (lambda e: e.update(scheduled_at="tomorrow"), "scheduled_at"),
    ],
)
def test_bad_input_names_the_field(change, field):
    event = load_fixture("stepfunctions_send_welcome.json")
    change(event)
    with pytest.raises(SendInputError) as err:
        SendInput.parse(event)
    assert str(err.value).startswith(field + ":")


def test_not_an_object():
    with pytest.raises(SendInputError, match="input"):
        SendInput.parse(["x"])
