"""Personal offers switched on and off in the ERP.

A journey grants an offer (e.g. 15 % off the abandoned cart for 48 hours) and
revokes it again later. Polku does not own prices: it tells the ERP through
EventBridge events on the OffersBus — source ``polku.offer``, detail-types
``OfferGranted`` / ``OfferRevoked`` — and, optionally, a webhook. The ERP
de-duplicates on ``offer_id`` (a retried step may publish the same event twice,
never two different offers).

This module is the use case; :mod:`polku.journeys.offer_bus` is the adapter.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from typing import Any, Callable


from polku import clock
from polku.data import journey_state

SOURCE = "polku.offer"
GRANTED = "OfferGranted"
REVOKED = "OfferRevoked"
MAX_VALID_HOURS = 24 * 31
# Why an offer was switched off: it ran out, the customer reached the journey's goal (e.g. bought),
# or the run was stopped (e.g. unsubscribe). The ERP sees it in OfferRevoked's ``reason``.
REVOKE_REASONS = ("expired", "goal", "stopped")


class OfferInputError(ValueError):
    """Bad offer step input (names the field)."""


def offer_id(execution_id: str, state: str, code: str) -> str:
    """Stable id: the same step of the same run always names the same offer."""
    return "off_" + hashlib.sha256(f"{execution_id}\x1f{state}\x1f{code}".encode()).hexdigest()[:24]


def _need(event: dict, name: str, kind=str):
    value = event.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
        raise OfferInputError(f"{name}: required ({kind.__name__ if isinstance(kind, type) else 'number'})")
    return value


def grant(event: dict, publish: Callable[[str, dict], None]) -> dict:
    """Grant ``event['offer']`` to the customer once; returns what the journey needs to revoke it."""
    customer_id = _need(event, "customer_id")
    journey = _need(event, "journey")
    execution_id = _need(event, "execution_id")
    state = _need(event, "step")
    offer = event.get("offer")
    if not isinstance(offer, dict):
        raise OfferInputError("offer: required ({code, discount_percent, valid_hours})")
    code = _need(offer, "code")
    discount = _need(offer, "discount_percent", (int, float))
    hours = _need(offer, "valid_hours", (int, float))
    if not 0 < discount <= 100:
        raise OfferInputError("offer.discount_percent: must be in (0, 100]")
    if not 0 < hours <= MAX_VALID_HOURS:
        raise OfferInputError(f"offer.valid_hours: must be in (0, {MAX_VALID_HOURS}]")
    oid = offer_id(execution_id, state, code)
    now = clock.now()
    detail = {
        "offer_id": oid,
        "customer_id": customer_id,
        "journey": journey,
        "execution_id": execution_id,
        "code": code,
        "title": offer.get("title") if isinstance(offer.get("title"), str) else f"{discount:g} % off",
        "discount_percent": discount,
        "valid_from": clock.to_iso(now),
        "valid_until": clock.to_iso(now + _dt.timedelta(hours=hours)),
    }
    detail["expires_at"] = detail["valid_until"]  # the name message templates use
    item = journey_state.add_once(customer_id, f"{journey_state.OFFER}{oid}", journey=journey, status="granting",
                                  entered_at=detail["valid_from"], detail=detail)
    if item is None:
        item = journey_state.find(customer_id, f"{journey_state.OFFER}{oid}")
        detail = _plain(item.detail)
    if item.status == "granting":
        publish(GRANTED, detail)
        journey_state.set_status(item, "granted")
    return {"action": GRANTED, **detail, "valid_seconds": int(hours * 3600)}


def revoke(event: dict, publish: Callable[[str, dict], None], reason: str | None = None) -> dict:
    """Revoke a granted offer (idempotent: an offer already revoked is not revoked again)."""
    customer_id = _need(event, "customer_id")
    oid = _need(event, "offer_id")
    reason = reason or event.get("reason") or "expired"
    if reason not in REVOKE_REASONS:
        raise OfferInputError(f"reason: one of {list(REVOKE_REASONS)}, got {reason!r}")
    item = journey_state.find(customer_id, f"{journey_state.OFFER}{oid}")
    if item is None:
        raise OfferInputError(f"offer_id: no offer {oid} was granted to {customer_id}")
    detail = _plain(item.detail)
    out = {"offer_id": oid, "customer_id": customer_id, "journey": item.journey, "code": detail.get("code"),
           "reason": reason, "revoked_at": clock.now_iso()}
    if item.status == "revoked":
        return {"action": REVOKED, **_plain(item.detail).get("revocation", out)}
    publish(REVOKED, out)
    detail["revocation"] = out
    journey_state.set_status(item, "revoked", detail=detail)
    return {"action": REVOKED, **out}


def open_offers(customer_id: str, execution_id: str | None = None) -> list:
    """Offers of a customer (optionally of one run) that were granted and not revoked."""
    out = []
    for item in journey_state.items(customer_id, journey_state.OFFER):
        if item.status in ("granting", "granted"):
            if execution_id is None or _plain(item.detail).get("execution_id") == execution_id:
                out.append(item)
    return out


def _plain(value: Any) -> Any:
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "is_integer") and not isinstance(value, float):  # Decimal
        return int(value) if value == int(value) else float(value)
    return value
