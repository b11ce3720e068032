"""The web inbox: the ``web`` channel's cards, waiting for the customer's next page view.

A web card is a message like any other (one item of the message log): Send claims it once,
renders the template's web part (``web_title``, ``web_body``, ``web_url``), signs its link
(channel ``web``) and keeps the card on the message until ``expires_at``. The content route
(:mod:`polku.tracking.content`) hands a customer's waiting cards to their pages, newest first;
the first time a card is handed out it is ``delivered`` (feedback ``delivery_at``), and every
page view that shows it is a ``content_impression`` event. A click comes back through the
signed link (``content_click``, feedback ``click_at``); a clicked card is not shown again, nor
is a journey's card once that run has ended early (a goal reached, an exit event, stopped): the
reminder of a cart that was bought is withdrawn. docs/onsite.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable, Iterable, Mapping

from polku import clock
from polku.data import messages

CARD_LIFETIME = dt.timedelta(days=7)
MAX_CARDS = 3
SHOWABLE = ("sent", "delivered")


def card(parts: Mapping[str, str], track: Callable[[str], str], products: Iterable | None = None,
         data: Mapping | None = None) -> dict:
    """The stored card: title, text, the signed link to ``web_url`` and an image (the first cart
    line's or recommended product's)."""
    image = None
    for p in [*((data or {}).get("cart_items") or []), *(products or [])]:
        if isinstance(p, Mapping) and p.get("image_url"):
            image = str(p["image_url"])
            break
    out = {"title": parts.get("web_title", "")[:200], "text": parts.get("web_body", "")[:500],
           "url": track(parts.get("web_url") or "")}
    if image:
        out["image_url"] = image
    return out


def expires_at(now: dt.datetime) -> str:
    return clock.to_iso(now + CARD_LIFETIME)


def waiting(customer_id: str, now: dt.datetime | None = None, limit: int = MAX_CARDS) -> list:
    """The customer's cards that may be shown now (not expired, not clicked), newest first."""
    now = now or clock.now()
    since = clock.to_iso(now - CARD_LIFETIME)
    now_iso = clock.to_iso(now)
    out = []
    for m in messages.web_cards_since(customer_id, since):
        feedback = m.feedback.as_dict() if m.feedback is not None else {}
        if m.status in SHOWABLE and m.card is not None and (m.expires_at or "") > now_iso \
                and "click_at" not in feedback and not run_ended(m):
            out.append(m)
            if len(out) >= limit:
                break
    return out


def run_ended(item) -> bool:
    """Whether the journey run that placed the card has ended early (exited: goal, exit event, stop)."""
    from polku.data import journey_state

    if not item.journey or not item.execution_id:
        return False
    run = journey_state.run(item.customer_id, item.journey, consistent_read=False)
    if run is None:
        return False  # not a journey's (a campaign's card), or its run is gone
    same = (run.execution_name or "") == item.execution_id.rsplit(":", 1)[-1]
    return same and run.status == "exited"


def card_of(item) -> dict:
    return {"message_id": item.message_id, **(item.card.as_dict() if item.card is not None else {}),
            "expires_at": item.expires_at}
