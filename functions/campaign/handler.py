"""Campaign steps (the campaign state machine's Tasks): ``audience_part`` and ``plan_waves``.

Input and output: polku.campaigns.fanout. ``CampaignError`` means bad input (the state machine
does not retry it); the message names the field.
"""

from polku import aws_clients
from polku.campaigns import fanout
from polku.campaigns.definition import CampaignError
from polku.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    action = event.get("action") if isinstance(event, dict) else None
    if action == "audience_part":
        return fanout.audience_part(event, aws_clients.client("s3"))
    if action == "plan_waves":
        return fanout.plan_waves(event, aws_clients.client("s3"))
    raise CampaignError(f"action: audience_part or plan_waves, got {action!r}")
