"""One batch of a campaign's audience through the Send function's use case, exactly once per recipient.

The campaign state machine's Distributed Map hands the Send function batches
``{"action": "campaign_batch", "Items": [{customer_id, variant}], "BatchInput": {campaign, run_id, send_at}}``.
Each recipient's message is :func:`polku.messaging.send_message.send_message` — the journeys'
path: consent, suppression, frequency caps, quiet hours, channel choice, the one renderer and the
message log's claim. The message id is derived from the campaign, its run and the customer
(``execution_id`` = ``campaign/<name>/<run>/<customer>``), so a retried batch, a redriven map run
or a second delivery of the same item finds the message already claimed and sends nothing again.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Callable

from polku.campaigns.definition import Campaign, CampaignError, from_dict

MAX_BATCH = 1000
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
STEP = "send"


def execution_id(campaign: Campaign, run_id: str, customer_id: str) -> str:
    return f"campaign/{campaign.name}/{run_id}/{customer_id}"


def message_id(campaign: Campaign, run_id: str, customer_id: str) -> str:
    from polku.messaging.message_log import message_id_for

    return message_id_for(execution_id(campaign, run_id, customer_id), STEP)


def check_run_id(value: Any, where: str = "run_id") -> str:
    if not isinstance(value, str) or not RUN_ID.match(value):
        raise CampaignError(f"{where}: letters, digits, - and _ (1 to 64), got {value!r}")
    return value


def offer_event(campaign: Campaign, run_id: str, customer_id: str) -> dict:
    """The campaign's offer for one recipient, as ``journeys.offers.grant`` takes it (its id follows from the
    campaign, run and customer, so a retried batch grants the same offer once)."""
    offer = campaign.offer or {}
    body = {"code": offer["code"], "discount_percent": offer["discount_percent"], "valid_hours": offer["valid_days"] * 24}
    if offer.get("title"):
        body["title"] = offer["title"]
    return {"customer_id": customer_id, "journey": campaign.journey, "execution_id": execution_id(campaign, run_id, customer_id),
            "step": STEP, "offer": body}


def offer_id(campaign: Campaign, run_id: str, customer_id: str) -> str:
    from polku.journeys.offers import offer_id as journeys_offer_id

    return journeys_offer_id(execution_id(campaign, run_id, customer_id), STEP, campaign.offer["code"])


def send_input(campaign: Campaign, run_id: str, customer_id: str, variant: str, send_at: str | None,
               offer: dict | None = None):
    from polku.messaging.send_message import SendInput

    return SendInput(
        customer_id=customer_id,
        journey=campaign.journey,
        step=STEP,
        template=campaign.template,
        execution_id=execution_id(campaign, run_id, customer_id),
        message_type=campaign.message_type,
        variant=variant,
        context={"stage": "main", "campaign": campaign.name},
        recommend=dict(campaign.recommend) if campaign.recommend else None,
        offer=offer,
        channel=campaign.channel,
        scheduled_at=send_at,
    )


def parse_batch(event: Any) -> tuple[Campaign, str, str | None, list[dict]]:
    if not isinstance(event, dict):
        raise CampaignError("input: must be an object")
    batch = event.get("BatchInput")
    if not isinstance(batch, dict):
        raise CampaignError("BatchInput: required (campaign, run_id, send_at)")
    campaign = from_dict(batch.get("campaign"))
    run_id = check_run_id(batch.get("run_id"), "BatchInput.run_id")
    send_at = batch.get("send_at")
    if send_at is not None and not isinstance(send_at, str):
        raise CampaignError("BatchInput.send_at: an ISO-8601 time")
    items = event.get("Items")
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        raise CampaignError(f"Items: a list of 1 to {MAX_BATCH} recipients")
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("customer_id"), str) or not item["customer_id"]:
            raise CampaignError(f"Items[{i}].customer_id: required (text)")
        if item.get("variant") not in campaign.variants:
            raise CampaignError(f"Items[{i}].variant: one of {sorted(campaign.variants)}, got {item.get('variant')!r}")
    return campaign, run_id, send_at, items


def send_batch(event: Any, deps, send: Callable | None = None, grant: Callable | None = None) -> dict:
    """Send the batch's messages one after the other; the counts by outcome (the map run's result).
    Messages deferred by the send policy (quiet hours, a sending pause) are left reclaimable and the
    answer's ``retry_at`` is the latest of their times (else null): the state machine waits and runs the batch
    again, when the messages sent already are answered from the message log.

    A transient provider error propagates (the Send task's Retry runs the batch again; recipients
    already done are answered from the message log)."""
    from polku.messaging.send_message import send_message

    send = send or send_message
    campaign, run_id, send_at, items = parse_batch(event)
    if campaign.offer and grant is None:
        raise CampaignError("offer: this campaign grants an offer, and no offer bus was given")
    counts: Counter = Counter()
    retry_at = None
    for item in items:
        # The offer is switched on in the ERP (OffersBus OfferGranted, once per offer id) before the message.
        offer = grant(offer_event(campaign, run_id, item["customer_id"])) if campaign.offer else None
        result = send(send_input(campaign, run_id, item["customer_id"], item["variant"], send_at, offer), deps)
        status = str(result.get("status"))
        counts["replayed" if result.get("replayed") and status != "deferred" else status] += 1
        if status == "deferred" and result.get("send_at"):
            retry_at = max(retry_at or result["send_at"], result["send_at"])
    # retry_at: quiet hours (or a sending pause) deferred some; the batch runs again then (done ones replay)
    return {"campaign": campaign.name, "run_id": run_id, "recipients": len(items), **dict(sorted(counts.items())),
            "retry_at": retry_at}


def revoke_batch(event: Any, revoke: Callable) -> dict:
    """Switch the batch's offers off in the ERP (OfferRevoked, reason expired) when the campaign's offer
    has run out; an offer never granted (the batch did not reach the customer) is counted, not an error."""
    from polku.journeys.offers import OfferInputError

    campaign, run_id, _, items = parse_batch(event)
    if not campaign.offer:
        raise CampaignError("offer: this campaign grants no offer")
    counts: Counter = Counter()
    for item in items:
        try:
            revoke({"customer_id": item["customer_id"], "offer_id": offer_id(campaign, run_id, item["customer_id"]),
                    "reason": "expired"})
            counts["revoked"] += 1
        except OfferInputError:
            counts["not_granted"] += 1
    return {"campaign": campaign.name, "run_id": run_id, "recipients": len(items), **dict(sorted(counts.items()))}
