"""Events stream -> customer profiles. Partial batch failures are reported per record."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

from polku.observability import logger, metrics, tracer
from polku.tracking import profile_store

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    if record.event_name != DynamoDBRecordEventName.INSERT:
        return  # erasures and TTL expiry do not change profiles
    applied = profile_store.apply(record.dynamodb.new_image)
    metrics.add_metric(name="ProfileUpdates" if applied else "RedeliveredEvents", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
