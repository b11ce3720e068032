"""Grant or revoke a personal offer in the ERP (EventBridge ``polku.offer`` OfferGranted/OfferRevoked).

Input ``{"action": "grant", customer_id, journey, execution_id, step, offer: {code, discount_percent,
valid_hours}}`` or ``{"action": "revoke", customer_id, offer_id}``.
"""

from polku.journeys import offers
from polku.journeys.offer_bus import OfferBus
from polku.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def lambda_handler(event, context):
    action = event.get("action") if isinstance(event, dict) else None
    if action == "grant":
        return offers.grant(event, OfferBus().publish)
    if action == "revoke":
        return offers.revoke(event, OfferBus().publish)
    raise offers.OfferInputError(f"action: grant or revoke, got {action!r}")
