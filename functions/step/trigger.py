"""Events stream -> journeys: resume task-token waits, stop runs on goal/exit events, start matching journeys.

Partial batch failures are reported per record (the stream retries them, then the DLQ keeps them).
Runs refused because no consented channel reaches the customer are counted per journey in the
metric JourneyStartsRefused (one data point per journey and invocation) and named in the log line.
"""

import threading

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from polku import aws_clients
from polku.journeys import registry
from polku.journeys.offer_bus import OfferBus
from polku.journeys.triggers import event_from_item, handle_event
from polku.observability import JOURNEY_STARTS_REFUSED, count_per, logger, metrics, tracer
from polku.settings import get_settings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
_invocation = threading.local()  # .refused: journey -> runs refused in this invocation (its thread's)


def _sfn():
    return aws_clients.client("stepfunctions")


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return
    event = event_from_item(record.dynamodb.new_image)
    outcome = handle_event(event, registry.current(), _sfn(), get_settings().state_machine_prefix, OfferBus().publish)
    refused = getattr(_invocation, "refused", None)
    for journey in outcome.refused if refused is not None else ():
        refused[journey] = refused.get(journey, 0) + 1
    if outcome.entries or outcome.stopped or outcome.resumed:
        logger.info("journeys", extra={"event_id": event["event_id"], "entries": outcome.entries,
                                       "stopped": outcome.stopped, "resumed": outcome.resumed,
                                       **({"unreachable": outcome.refused} if outcome.refused else {})})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    _invocation.refused = {}
    try:
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    finally:
        count_per(JOURNEY_STARTS_REFUSED, "journey", _invocation.refused)
        _invocation.refused = None
