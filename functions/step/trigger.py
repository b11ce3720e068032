"""Events stream -> journeys. Until issue #6 builds the triggers, records are acknowledged unread."""

from polku.observability import logger


def lambda_handler(event, context):
    logger.debug("journey triggers are built in issue #6; %d records acknowledged", len(event.get("Records", [])))
    return {"batchItemFailures": []}
