"""SES feedback (SNS -> Lambda): bounces and complaints join the suppression list,
every event updates the message log, opens and clicks become tracking events."""

import json

from polku.messaging.feedback import FeedbackError, handle_ses_event
from polku.observability import logger, tracer


def handle(event: dict) -> dict:
    results = []
    for record in event.get("Records") or []:
        raw = (record.get("Sns") or {}).get("Message")
        try:
            ses_event = json.loads(raw) if isinstance(raw, str) else None
            if not isinstance(ses_event, dict):
                raise FeedbackError("SNS message is not a JSON object")
            results.append(handle_ses_event(ses_event))
        except (FeedbackError, ValueError) as exc:  # malformed: log and drop, a retry cannot fix it
            logger.warning("ignored SNS record", extra={"reason": str(exc)})
            results.append({"ignored": str(exc)})
    return {"results": results}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return handle(event)
