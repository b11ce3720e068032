"""Events stream -> journeys: resume task-token waits, stop runs on goal/exit events, start matching journeys.

Partial batch failures are reported per record (the stream retries them, then the DLQ keeps them).
"""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from polku import aws_clients
from polku.journeys import registry
from polku.journeys.offer_bus import OfferBus
from polku.journeys.triggers import event_from_item, handle_event
from polku.observability import logger, metrics, tracer
from polku.settings import get_settings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _sfn():
    return aws_clients.client("stepfunctions")


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return
    event = event_from_item(record.dynamodb.new_image)
    outcome = handle_event(event, registry.current(), _sfn(), get_settings().state_machine_prefix, OfferBus().publish)
    if outcome.entries or outcome.stopped or outcome.resumed:
        logger.info("journeys", extra={"event_id": event["event_id"], "entries": outcome.entries,
                                       "stopped": outcome.stopped, "resumed": outcome.resumed})


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
