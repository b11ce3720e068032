"""Send step (journey Task): render one personal message and deliver it, exactly once.

Also the campaigns' fan-out: ``{"action": "campaign_batch", "Items": [...], "BatchInput": {...}}``
from the campaign state machine's Distributed Map sends each item's message the same way
(polku.campaigns.sending).

Input and output are documented in docs/messages.md. Errors Step Functions sees:
``SendInputError`` (bad input, do not retry), ``TransientDeliveryError`` and
``MessageInProgress`` (retry with backoff). Everything else is in the message log.
"""

from aws_lambda_powertools.metrics import MetricUnit

from polku.messaging.send_message import SendInput, send_message, send_time_for
from polku.messaging.wiring import send_deps
from polku.observability import logger, metrics, tracer


def handle(event: dict) -> dict:
    deps = send_deps()
    if isinstance(event, dict) and event.get("action") == "send_time":
        return send_time_for(event, deps.load_profile, deps.quiet)
    if isinstance(event, dict) and event.get("action") == "campaign_batch":  # a campaign's Distributed Map
        from polku.campaigns.sending import send_batch
        from polku.journeys import offers
        from polku.journeys.offer_bus import OfferBus

        return send_batch(event, deps, grant=lambda e: offers.grant(e, OfferBus().publish))
    result = send_message(SendInput.parse(event), deps)
    name = "MessagesReplayed" if result.get("replayed") else f"Messages{str(result['status']).capitalize()}"
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return result


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event, context):
    return handle(event)
