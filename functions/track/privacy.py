"""Lambda entry point: export or erase everything Polku holds about one customer or one anonymous visitor.

Input: ``{"action": "export" | "erase", "customer_id": "..."}`` or
``{"action": "export" | "erase", "anonymous_id": "..."}`` (a browser that never identified).
"""

from polku.observability import logger, tracer
from polku.tracking import privacy
from polku.tracking.validation import Invalid, check_id


def run(event) -> dict:
    if not isinstance(event, dict):
        raise Invalid("event", "must be an object with action and customer_id or anonymous_id")
    action = event.get("action")
    if action not in ("export", "erase"):
        raise Invalid("action", "must be export or erase")
    if ("customer_id" in event) == ("anonymous_id" in event):
        raise Invalid("customer_id", "give exactly one of customer_id and anonymous_id")
    if "anonymous_id" in event:
        check_id(event["anonymous_id"], "anonymous_id")
        if action == "export":
            return privacy.export_anonymous(event["anonymous_id"])
        return privacy.erase_anonymous(event["anonymous_id"])
    check_id(event["customer_id"], "customer_id")
    if action == "export":
        return privacy.export(event["customer_id"])
    return privacy.erase(event["customer_id"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    return run(event)
