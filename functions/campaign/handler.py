"""Campaign steps (the campaign state machine's Tasks): ``audience_part``, ``plan_waves`` and ``revoke_offers``.

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
    if action == "revoke_offers":  # a Distributed Map batch when the campaign's offer has run out
        from polku.campaigns.sending import revoke_batch
        from polku.journeys import offers
        from polku.journeys.offer_bus import OfferBus

        return revoke_batch(event, lambda e: offers.revoke(e, OfferBus().publish))
    raise CampaignError(f"action: audience_part, plan_waves or revoke_offers, got {action!r}")
