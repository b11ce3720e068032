"""SES events (delivery, bounce, complaint, open, click) -> suppression list, message
log and tracking events. Input: the SES event-publishing JSON (or a classic SES
notification) as delivered by SNS."""

from __future__ import annotations

from typing import Any, Mapping

from polku import clock
from polku.data import messages
from polku.messaging import message_log, sending_pause, suppression_list, tracking_events
from polku.observability import logger


class FeedbackError(ValueError):
    """An SNS record that is not an SES event."""


def _message_id(mail: Mapping) -> str | None:
    tags = mail.get("tags") or {}
    ids = tags.get("polku_message_id") if isinstance(tags, Mapping) else None
    if ids:
        return ids[0] if isinstance(ids, list) else str(ids)
    for h in mail.get("headers") or []:
        if isinstance(h, Mapping) and str(h.get("name", "")).lower() == "x-polku-message-id":
            return str(h.get("value"))
    return None


def handle_ses_event(event: Mapping[str, Any]) -> dict:
    kind = str(event.get("eventType") or event.get("notificationType") or "").lower()
    mail = event.get("mail")
    if not kind or not isinstance(mail, Mapping):
        raise FeedbackError("not an SES event: eventType/notificationType and mail are required")
    message_id = _message_id(mail)
    detail = event.get(kind) if isinstance(event.get(kind), Mapping) else {}
    at = str(detail.get("timestamp") or mail.get("timestamp") or clock.now_iso())
    try:
        at = clock.to_iso(clock.parse_iso(at))
    except ValueError:
        at = clock.now_iso()
    item = messages.get(message_id) if message_id else None
    customer_id = item.customer_id if item is not None else None
    result = {"kind": kind, "message_id": message_id, "suppressed": []}

    permanent = kind == "bounce" and str(detail.get("bounceType", "")).lower() == "permanent"
    if kind == "bounce":
        if permanent:
            for r in detail.get("bouncedRecipients") or []:
                addr = r.get("emailAddress") if isinstance(r, Mapping) else None
                if addr:
                    key = suppression_list.address_key("email", addr)
                    suppression_list.suppress(key, "bounce", message_id=message_id,
                                              detail=f"{detail.get('bounceType')}/{detail.get('bounceSubType')}")
                    result["suppressed"].append(key)
    elif kind == "complaint":
        for r in detail.get("complainedRecipients") or []:
            addr = r.get("emailAddress") if isinstance(r, Mapping) else None
            if addr:
                key = suppression_list.address_key("email", addr)
                suppression_list.suppress(key, "complaint", message_id=message_id,
                                          detail=str(detail.get("complaintFeedbackType") or ""))
                result["suppressed"].append(key)
        if customer_id:
            tracking_events.record_reaction("unsubscribe", message_id=message_id, customer_id=customer_id, at=at,
                                            journey=item.journey)

    # The account's health: deliveries, hard bounces and complaints per hour; a rate at AWS's
    # review level pauses marketing e-mail (messaging/sending_pause.py).
    if kind == "delivery" or kind == "complaint" or (kind == "bounce" and permanent):
        reason = sending_pause.record(kind)
        if reason:
            logger.error("marketing e-mail paused", extra={"reason": reason})
            result["paused"] = reason
    if message_id:
        known = message_log.record_feedback(message_id, kind, at)
        if not known:
            logger.warning("SES event for an unknown message", extra={"message_id": message_id, "kind": kind})
    if customer_id and kind in ("open", "click"):
        url = detail.get("link") if kind == "click" else None
        tracking_events.record_reaction(kind, message_id=message_id, customer_id=customer_id, url=url, at=at,
                                        journey=item.journey)
    return result
