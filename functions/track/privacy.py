"""Lambda entry point: export or erase everything Polku holds about one customer.

Input: ``{"action": "export" | "erase", "customer_id": "..."}``.
"""

from polku.observability import logger, tracer
from polku.tracking import privacy
from polku.tracking.validation import Invalid, check_id

ACTIONS = {"export": privacy.export, "erase": privacy.erase}


def run(event) -> dict:
    if not isinstance(event, dict):
        raise Invalid("event", "must be an object with action and customer_id")
    action = event.get("action")
    if action not in ACTIONS:
        raise Invalid("action", "must be export or erase")
    check_id(event.get("customer_id"), "customer_id")
    return ACTIONS[action](event["customer_id"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return run(event)
