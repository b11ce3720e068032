"""In-process Lambda runtime: real module loading and Lambda-shaped errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from polku.twin import lambda_runtime

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "functions"


@pytest.fixture
def registered():
    lambda_runtime.register(lambda_runtime.FunctionSpec(name="unit-echo", logical_id="Echo", code_dir=FIXTURES,
                                                        handler="echo.ok"))
    lambda_runtime.register(lambda_runtime.FunctionSpec(name="unit-fail", logical_id="Fail", code_dir=FIXTURES,
                                                        handler="echo.fail"))
    yield


def test_invoke_runs_the_handler_with_a_context(registered):
    result, error = lambda_runtime.invoke("unit-echo", {"a": 1})
    assert error is None and result == {"got": {"a": 1}, "fn": "unit-echo"}


def test_errors_come_back_as_lambda_reports_them(registered):
    result, error = lambda_runtime.invoke("unit-fail", {})
    assert error == "Boom"
    assert result["errorType"] == "Boom" and result["errorMessage"] == "field x: bad"
    assert result["stackTrace"]


def test_unknown_function_is_a_key_error():
    with pytest.raises(KeyError, match="no-such"):
        lambda_runtime.invoke("no-such", {})
