"""The data layer's contract tests run each case on real DynamoDB Local and on the twin (moto): the
tables of template.yaml made once on DynamoDB Local, and ``backend``, which binds every model to one
backend or the other for a test."""

from __future__ import annotations

from typing import NamedTuple

import boto3
import pytest

from polku.data.base import MODELS, bind_models
from polku.settings import Settings, get_settings


class Backend(NamedTuple):
    name: str  # "dynamodb_local" | "twin"
    endpoint: str
    settings: Settings


@pytest.fixture(scope="session")
def contract_tables(dynamodb_local, template):
    """Logical id -> table name of every table in template.yaml, made on DynamoDB Local."""
    from polku.testing.dynamodb_local import create_tables_from_template

    client = boto3.client(
        "dynamodb", endpoint_url=dynamodb_local.endpoint_url, region_name="eu-west-1",
        aws_access_key_id="contract", aws_secret_access_key="contract",
    )
    return create_tables_from_template(client, template, stage="contract")


def _logical_id(settings_field: str) -> str:
    """``journey_state_table`` -> ``JourneyStateTable`` (the settings field of the table's name)."""
    return "".join(part.capitalize() for part in settings_field.split("_"))


@pytest.fixture(params=["dynamodb_local", "twin"])
def backend(request, contract_tables, dynamodb_local, twin):
    if request.param == "dynamodb_local":
        settings = Settings(**{m.settings_field: contract_tables[_logical_id(m.settings_field)] for m in MODELS})
        endpoint = dynamodb_local.endpoint_url
    else:
        settings, endpoint = get_settings(), twin.endpoint_url
    bind_models(settings, host=endpoint)
    yield Backend(request.param, endpoint, settings)
    bind_models(get_settings(), host=None)
