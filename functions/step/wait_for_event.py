"""Registers a task token so the events stream can resume the journey when the event arrives.

Called by a ``lambda:invoke.waitForTaskToken`` Task; its Payload is
``{token, customer_id, journey, event_type, where?, timeout_seconds, execution_id}``.
"""

from polku.journeys.waits import register
from polku.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return register(event)
