"""SQS EnrollmentQueue -> enrol one chunk of a distributed-marketing request.

Thin: Powertools BatchProcessor with partial batch failures; the use case is
:func:`polku.enrollment.service.process_chunk` (each customer enrolled once).
"""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from polku.enrollment.service import process_chunk
from polku.observability import JOURNEY_STARTS_REFUSED, count_per, logger, metrics, tracer

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> dict:
    counts = process_chunk(record.json_body)
    metrics.add_metric(name="EnrollmentsStarted", unit=MetricUnit.Count, value=counts["started"])
    count_per(JOURNEY_STARTS_REFUSED, "journey", {record.json_body["journey"]: counts["unreachable_now"]})
    logger.info("enrolment chunk done", extra={"counts": counts})
    return counts


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
