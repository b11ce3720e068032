"""Hourly: enter scheduled journeys (birthday, win-back) for customers whose profile matches."""

import boto3

from polku.journeys import registry
from polku.journeys.triggers import run_schedule, scan_profiles
from polku.observability import logger, tracer
from polku.settings import get_settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    started = run_schedule(registry.current(), scan_profiles(), boto3.client("stepfunctions"),
                           get_settings().state_machine_prefix)
    logger.info("scheduled journeys", extra={"started": started})
    return {"started": started}
