"""Normalise raw table items (plain dicts) into the records the figures use (pure).

Field names follow the data models and docs/messages.md: a message's opens and
clicks are ``feedback.open_at`` / ``feedback.click_at``; one-off messages are those
whose ``message_type`` is transactional/newsletter (or whose journey is "one-off"), and every campaign's
(journey ``campaign:<name>``);
recommendation click-through needs ``recommended_products`` (product ids) and
``recommend_strategy`` on the message. Unknown statuses are kept as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

ONE_OFF_JOURNEYS = {"", "one-off", "one_off", "oneoff", "none", "broadcast", "newsletter", "transactional"}
ONE_OFF_TYPES = {"transactional", "newsletter", "one-off", "one_off"}
# A campaign's messages (polku.campaigns) are one-off volume; their journey is "campaign:<name>" and their
# holdout is kept in the journey state table as "campaign#<name>#<run>" items (status holdout).
CAMPAIGN_PREFIX = "campaign:"
CAMPAIGN_ITEM = "campaign#"
# The message log's statuses (docs/messages.md) that mean "handed to a provider".
SENT = {"sent", "delivered", "bounced", "complained"}
OPEN_EVENTS = {"email_open", "message_open", "open"}
CLICK_EVENTS = {"email_click", "message_click", "click"}
PURCHASE_EVENTS = {"purchase", "order_completed"}


def plain(value):
    """DynamoDB's Decimals to int/float, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def _first(item: dict, *names, default=None):
    for n in names:
        v = item.get(n)
        if v not in (None, ""):
            return v
    return default


@dataclass
class Message:
    message_id: str
    customer_id: str
    journey: str | None  # None: a one-off message
    step: str
    variant: str | None
    channel: str
    status: str
    created_at: str
    sent_at: str | None
    opened_at: str | None = None
    clicked_at: str | None = None
    recommendations: list = field(default_factory=list)
    recommendation_strategy: str | None = None
    campaign: str | None = None  # the campaign of a campaign message (one-off: journey is None)

    @property
    def sent(self) -> bool:
        return self.status in SENT

    @property
    def opened(self) -> bool:
        return self.opened_at is not None or self.clicked_at is not None

    @property
    def clicked(self) -> bool:
        return self.clicked_at is not None


@dataclass
class Event:
    event_id: str
    type: str
    customer_id: str | None
    ts: str
    properties: dict


@dataclass
class Run:
    customer_id: str
    journey: str
    entered_at: str
    status: str
    variant: str | None
    exit_reason: str | None
    trigger_event_id: str | None


def message_from_item(item: dict) -> Message:
    item = plain(item)
    journey = _first(item, "journey")
    kind = _first(item, "message_type", "kind")
    campaign = str(journey)[len(CAMPAIGN_PREFIX):] if str(journey or "").startswith(CAMPAIGN_PREFIX) else None
    if campaign or kind in ONE_OFF_TYPES or str(journey or "").lower() in ONE_OFF_JOURNEYS:
        journey = None
    feedback = item.get("feedback") if isinstance(item.get("feedback"), dict) else {}
    status = str(_first(item, "status", default="unknown")).lower()
    recs = _first(item, "recommended_products", "recommendations", "recommended", default=[]) or []
    recs = [r.get("product_id") if isinstance(r, dict) else r for r in recs]
    return Message(
        message_id=str(item["message_id"]),
        customer_id=str(_first(item, "customer_id", default="")),
        journey=journey,
        step=str(_first(item, "step", "state", "template", default="message")),
        variant=_first(item, "variant"),
        channel=str(_first(item, "channel", default="email")),
        status=status,
        created_at=str(_first(item, "created_at", default="")),
        sent_at=_first(item, "sent_at", "created_at"),
        opened_at=_first(feedback, "open_at", "opened_at") or _first(item, "opened_at"),
        clicked_at=_first(feedback, "click_at", "clicked_at") or _first(item, "clicked_at"),
        recommendations=[str(r) for r in recs if r is not None],
        recommendation_strategy=_first(item, "recommend_strategy", "recommendation_strategy"),
        campaign=campaign,
    )


def event_from_item(item: dict) -> Event:
    item = plain(item)
    return Event(
        event_id=str(item.get("event_id", "")),
        type=str(item.get("type", "")),
        customer_id=_first(item, "customer_id"),
        ts=str(_first(item, "client_ts", "received_at", default=str(item.get("ts", "")).split("#")[0])),
        properties=item.get("properties") or {},
    )


def run_from_item(item: dict) -> Run | None:
    """Only ``run#`` items are runs (``wait#``, ``log#``, ``offer#``, ``stop#`` are not); a campaign's
    holdout member (``campaign#<name>#<run>``) is a run of journey ``campaign:<name>`` in status holdout."""
    item = plain(item)
    sk = str(item.get("sk", ""))
    if sk.startswith(CAMPAIGN_ITEM) and sk.count("#") >= 2:
        return Run(customer_id=str(item["customer_id"]), journey=CAMPAIGN_PREFIX + sk.split("#")[1],
                   entered_at=str(_first(item, "entered_at", default="")), status=str(_first(item, "status", default="")),
                   variant=_first(item, "variant"), exit_reason=None, trigger_event_id=_first(item, "trigger_event_id"))
    if not sk.startswith("run#"):
        return None
    return Run(
        customer_id=str(item["customer_id"]),
        journey=str(_first(item, "journey", default=item["sk"][4:])),
        entered_at=str(_first(item, "entered_at", default="")),
        status=str(_first(item, "status", default="running")),
        variant=_first(item, "variant"),
        exit_reason=_first(item, "exit_reason"),
        trigger_event_id=_first(item, "trigger_event_id"),
    )
