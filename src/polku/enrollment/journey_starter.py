"""Step Functions adapter: start one customer's journey run under a deterministic name."""

from __future__ import annotations

import json
from functools import lru_cache

from botocore.exceptions import ClientError

from polku.settings import get_settings


@lru_cache(maxsize=1)
def _client():
    import boto3

    return boto3.client("stepfunctions")


def start(journey: str, name: str, payload: dict) -> tuple[str, str]:
    """Start the run; returns (outcome, execution ARN). ``already`` when this name was
    started before (a retried chunk) — the customer is not enrolled twice."""
    arn = get_settings().state_machine_prefix + journey
    try:
        out = _client().start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
        return "started", out["executionArn"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
            execution_arn = arn.replace(":stateMachine:", ":execution:") + ":" + name
            return "already", execution_arn
        raise
