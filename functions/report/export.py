"""Daily: export the reporting tables to the AnalyticsBucket for Athena (thin handler)."""

from polku import aws_clients
from polku.observability import logger, tracer
from polku.reporting.table_export import export_all
from polku.settings import get_settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return {"exports": export_all(aws_clients.client("dynamodb"), get_settings())}
