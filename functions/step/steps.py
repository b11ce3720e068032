"""Journey steps that ASL cannot do alone. Typed input: {"action": ..., ...}."""

from polku.journeys.steps import run_step
from polku.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return run_step(event)
