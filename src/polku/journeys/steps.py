"""Journey steps that ASL cannot do alone (the JourneyStep Lambda). Typed input ``{"action": ...}``.

Every action is idempotent: a retried step gives the same answer (reads, or
writes keyed by execution and state).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from decimal import Decimal

from polku import clock
from polku.journeys.conditions import matches
from polku.journeys.variants import assign

DEFAULT_SCORE_WEIGHTS = {"page_view": 1, "product_view": 2, "email_open": 2, "email_click": 5,
                         "download": 10, "form_submit": 15, "event_attended": 20}
MAX_SEND_DELAY_SECONDS = 24 * 3600  # choose_send_time looks one day ahead


class StepInputError(ValueError):
    """The step input is missing a field or has a wrong value (names the field)."""


def _require(event: dict, name: str, kind=str):
    value = event.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
        raise StepInputError(f"{name}: required ({getattr(kind, '__name__', 'number')})")
    return value


def _time(event: dict, name: str) -> _dt.datetime:
    value = _require(event, name)
    try:
        return clock.parse_iso(value)
    except ValueError:
        raise StepInputError(f"{name}: not an ISO-8601 time: {value!r}") from None


def plain(value):
    """DynamoDB values (Decimal, MapAttribute) as JSON-ready Python values."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# ---------------------------------------------------------------- actions
def assign_variant(event: dict) -> dict:
    customer_id = _require(event, "customer_id")
    journey = _require(event, "journey")
    splits = event.get("splits") or {"A": 1.0}
    try:
        variant = assign(customer_id, journey, {k: float(v) for k, v in splits.items()})
    except ValueError as exc:
        raise StepInputError(str(exc)) from None
    return {"variant": variant, "at": clock.now_iso()}


def now(event: dict) -> dict:
    return {"now": clock.now_iso()}


def event_since(event: dict) -> dict:
    """Did the customer do ``event_type`` (matching ``where``) since ``since``?"""
    from polku.data import events as event_table

    customer_id = _require(event, "customer_id")
    event_type = _require(event, "event_type")
    since = _time(event, "since")
    where = event.get("where") or {}
    count, last = 0, None
    for item in event_table.of_subject_after(f"c#{customer_id}", clock.to_iso(since)):
        if item.type != event_type:
            continue
        if where and not matches({"properties": plain(item.properties) or {}}, where):
            continue
        count += 1
        last = item.client_ts
    return {"happened": count > 0, "count": count, "last_at": last}


def profile_view(customer_id: str, now_: _dt.datetime | None = None) -> dict:
    """The customer's profile as the registry and score gate see it (derived fields included)."""
    from polku.data import profiles

    now_ = now_ or clock.now()
    p = profiles.find(customer_id, consistent_read=False)
    if p is None:
        return {"customer_id": customer_id, "exists": False, "traits": {}, "counts": {}}
    return derive_profile(profile_dict(p), now_)


PROFILE_FIELDS = ("first_seen", "last_seen", "lead_score", "lead_score_at", "orders", "revenue", "last_purchase_at",
                  "preferred_channel", "locale", "time_zone")


def profile_dict(p) -> dict:
    """A stored profile (PynamoDB item) as a plain dict of the fields journeys look at."""
    view = {"customer_id": p.customer_id, "traits": plain(getattr(p, "traits", None)) or {},
            "counts": plain(getattr(p, "counts", None)) or {}}
    for name in PROFILE_FIELDS:
        view[name] = plain(getattr(p, name, None))
    return view


def derive_profile(view: dict, now_: _dt.datetime) -> dict:
    """The stored profile as of ``now_``: ``lead_score`` decayed from ``lead_score_at`` to now (the
    tracking lead-score rules and half-life), days since last seen, birthday today."""
    view = dict(view, exists=True)
    if view.get("lead_score") is not None and view.get("lead_score_at"):
        from polku.tracking.profile_builder import current_lead_score
        from polku.tracking.profile_store import rules

        view["lead_score"] = round(current_lead_score(view, now_, rules()), 6)
    if view.get("last_seen"):
        try:
            view["days_since_last_seen"] = (now_ - clock.parse_iso(view["last_seen"])).days
        except ValueError:
            pass
    birthday = (view.get("traits") or {}).get("birthday")
    view["birthday_today"] = bool(isinstance(birthday, str) and len(birthday) >= 5 and birthday[-5:] == now_.strftime("%m-%d"))
    return view


def lead_score(view: dict, weights: dict | None = None) -> float:
    """The profile's lead score, or a weighted sum of its event counts when none is stored."""
    if view.get("lead_score") is not None:
        return float(view["lead_score"])
    weights = weights or DEFAULT_SCORE_WEIGHTS
    counts = view.get("counts") or {}
    return float(sum(float(w) * float(counts.get(t, 0)) for t, w in weights.items()))


def score_gate(event: dict) -> dict:
    customer_id = _require(event, "customer_id")
    threshold = _require(event, "threshold", (int, float))
    score = lead_score(profile_view(customer_id, clock.now()), event.get("weights"))  # decayed to now
    return {"score": score, "hot": score >= threshold, "threshold": threshold}


def choose_send_time(event: dict) -> dict:
    """When to send: the customer's best hour in the next 24 h outside quiet hours (the messaging
    send-time model, :func:`polku.messaging.send_message.send_time_for`), under the same quiet hours
    the Send step enforces (:func:`polku.messaging.wiring.send_policy` over the settings), so a
    message sent at ``send_at`` is never deferred. ``wait_seconds`` <= 24 h."""
    from polku.messaging.send_message import send_time_for
    from polku.messaging.wiring import send_policy
    from polku.settings import get_settings
    from polku.tracking import profile_store

    customer_id = _require(event, "customer_id")
    settings = get_settings()
    _, quiet = send_policy(settings)
    now_ = clock.now()
    answer = send_time_for({"customer_id": customer_id, "window_hours": 24},
                           profile_store.load, quiet)
    wait = max(0, min(MAX_SEND_DELAY_SECONDS, math.ceil((clock.parse_iso(answer["send_at"]) - now_).total_seconds())))
    return {"send_at": clock.to_iso(now_ + _dt.timedelta(seconds=wait)), "wait_seconds": wait, "reason": answer["reason"]}


MAX_UNTIL_SECONDS = 90 * 24 * 3600  # as long as a journey may wait (lint's limit)


def seconds_until(event: dict) -> dict:
    """Whole seconds from now until ``until`` (at least 1), for a task-token wait's TimeoutSecondsPath
    that must end at a given moment (e.g. when an offer expires); at most 90 days."""
    until = _time(event, "until")
    seconds = max(1, math.ceil((until - clock.now()).total_seconds()))
    if seconds > MAX_UNTIL_SECONDS:
        raise StepInputError(f"until: more than 90 days away ({clock.to_iso(until)})")
    return {"seconds": seconds, "until": clock.to_iso(until)}


EVENT_MESSAGE_HOUR = 10  # local hour of the last chance, the day-before reminder, thanks and recording
LAST_CHANCE_AFTER_DAYS = 3  # the invitation's reminder: three days after it ...
LAST_CHANCE_MIN_DAYS = 2  # ... or the day before the event, but never sooner than two days after it


def _customer_zone(customer_id):
    from polku.messaging.recipient import Recipient
    from polku.messaging.send_time import zone
    from polku.tracking import profile_store

    profile = profile_store.load(customer_id) if isinstance(customer_id, str) and customer_id else None
    return zone(Recipient.from_profile(profile, customer_id).time_zone)


def _event_start(props: dict, customer_zone) -> tuple[_dt.date, _dt.datetime | None]:
    """The event's day as written and its start (UTC) when known: ``event_date`` an ISO-8601 time, or
    ``YYYY-MM-DD`` with ``event_time`` (``HH:MM``) in ``event_time_zone`` (default: the customer's)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    raw, field = props.get("event_date"), "trigger.properties.event_date"
    if not isinstance(raw, str) or not raw.strip():
        raise StepInputError(f"{field}: required (the event's date, YYYY-MM-DD or an ISO-8601 time)")
    raw = raw.strip()
    try:
        if len(raw) != 10:
            start = clock.parse_iso(raw)
            return start.astimezone(customer_zone).date(), start.astimezone(_dt.timezone.utc)
        day = _dt.date.fromisoformat(raw)
    except ValueError:
        raise StepInputError(f"{field}: not a date (YYYY-MM-DD) or ISO-8601 time: {raw!r}") from None
    at = props.get("event_time")
    if at in (None, ""):
        return day, None
    try:
        hour, minute = (int(x) for x in str(at).split(":"))
        local_time = _dt.time(hour, minute)
    except ValueError:
        raise StepInputError(f"trigger.properties.event_time: not a time of day (HH:MM): {at!r}") from None
    zone_name = props.get("event_time_zone")
    try:
        event_zone = ZoneInfo(zone_name) if zone_name not in (None, "") else customer_zone
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise StepInputError(f"trigger.properties.event_time_zone: not an IANA time zone: {zone_name!r}") from None
    return day, _dt.datetime.combine(day, local_time, event_zone).astimezone(_dt.timezone.utc)


def event_details(event: dict) -> dict:
    """The event a customer is invited to and its timeline in the customer's time zone, as of now
    (the journey asks again after the confirmation). From the trigger's properties: ``event_name``,
    ``event_date`` (required: ``YYYY-MM-DD`` or an ISO-8601 time), optional ``event_time``
    (``HH:MM``) and ``event_time_zone`` (IANA; default the customer's). The event's day ``day`` is
    the customer's local day of its start (the date as written when there is no time).

    * ``past``: registration is over (the event has started; without a time, its day is over):
      the invitation sends nothing.
    * ``last_chance`` / ``last_chance_at``: the invitation's one reminder, at 10:00 local three
      days after the invitation, or the day before the event if that is sooner, but never sooner
      than two days after the invitation (an event two days away gets none) nor on or after the
      event day. ``invitation_wait_until``: how long the first registration wait lasts (until the
      reminder, or until registration is over).
    * ``registration_until``: the start, or the end of the event day (local).
    * ``reminder`` / ``reminder_at``: the registrant's "tomorrow" reminder, 10:00 local the day
      before; only when today is before that day (registered on the day before or later: the
      confirmation, which names the date, is the reminder).
    * ``after_event_at``: 10:00 local the day after the event day: attendance reported until then
      counts, thanks and the recording go then.
    """
    props = (event.get("trigger") or {}).get("properties") or {}
    cz = _customer_zone(event.get("customer_id"))
    day, start = _event_start(props, cz)

    def local(d: _dt.date, hour: int = EVENT_MESSAGE_HOUR) -> _dt.datetime:
        return _dt.datetime.combine(d, _dt.time(hour), cz).astimezone(_dt.timezone.utc)

    now_ = clock.now()
    today = now_.astimezone(cz).date()
    registration_until = start or local(day + _dt.timedelta(days=1), 0)
    after_event_at = local(day + _dt.timedelta(days=1))
    if (after_event_at - now_).total_seconds() > MAX_UNTIL_SECONDS:
        raise StepInputError(f"trigger.properties.event_date: more than 90 days away ({day.isoformat()}); "
                             "a journey waits at most 90 days: invite nearer the date")
    chance_day = min(today + _dt.timedelta(days=LAST_CHANCE_AFTER_DAYS), day - _dt.timedelta(days=1))
    last_chance_at = local(chance_day)
    last_chance = (chance_day >= today + _dt.timedelta(days=LAST_CHANCE_MIN_DAYS)
                   and now_ < last_chance_at < registration_until)
    reminder_day = day - _dt.timedelta(days=1)
    name = props.get("event_name")
    return {
        "name": name if isinstance(name, str) else None, "date": props.get("event_date"), "day": day.isoformat(),
        "time_zone": cz.key, "starts_at": clock.to_iso(start) if start else None,
        "starts_local": start.astimezone(cz).strftime("%H:%M") if start else None,
        "past": now_ >= registration_until,
        "last_chance": last_chance, "last_chance_at": clock.to_iso(last_chance_at) if last_chance else None,
        "invitation_wait_until": clock.to_iso(last_chance_at if last_chance else registration_until),
        "registration_until": clock.to_iso(registration_until),
        "reminder": today < reminder_day and now_ < local(reminder_day) < registration_until,
        "reminder_at": clock.to_iso(local(reminder_day)),
        "after_event_at": clock.to_iso(after_event_at),
    }


def in_time(event: dict) -> dict:
    """Is ``at`` before ``until``? (e.g. a deferred offer mail's send_at before the offer's valid_until;
    a Choice cannot compare Polku's millisecond timestamps portably.)"""
    at, until = _time(event, "at"), _time(event, "until")
    return {"in_time": at < until, "at": clock.to_iso(at), "until": clock.to_iso(until)}


def store_open(event: dict) -> dict:
    """Is the store the customer is near open now, in the store's own time zone? The store is
    ``store_id`` or the trigger's ``properties.store_id``; its hours come from the stores file
    (:mod:`polku.journeys.stores`). A store not in the file counts as closed."""
    from polku.journeys import stores

    store_id = event.get("store_id") or ((event.get("trigger") or {}).get("properties") or {}).get("store_id")
    if not isinstance(store_id, str) or not store_id:
        raise StepInputError("store_id: required (or trigger.properties.store_id)")
    store = stores.get(store_id)
    if store is None:
        return {"open": False, "store_id": store_id, "reason": f"unknown store {store_id!r} (not in the stores file)"}
    local = store.local(clock.now())
    return {"open": store.is_open(local), "store_id": store_id, "store_name": store.name,
            "time_zone": store.time_zone, "local_time": local.strftime("%H:%M")}


def record(event: dict) -> dict:
    """Record a happening (e.g. a hand-over to sales) once per run and state."""

    from polku.data import journey_state

    customer_id = _require(event, "customer_id")
    journey = _require(event, "journey")
    execution_id = _require(event, "execution_id")
    kind = _require(event, "type")
    detail = event.get("detail") or {}
    key = hashlib.sha256(f"{execution_id}\x1f{event.get('step', '')}\x1f{kind}".encode()).hexdigest()[:16]
    at = clock.now_iso()
    journey_state.add_once(customer_id, f"{journey_state.LOG}{key}", journey=journey, entered_at=at, status=kind,
                           detail={"type": kind, "execution_id": execution_id, **detail})
    return {"action": kind, "recorded_at": at, **detail}


SALES_SOURCE = "polku.journeys"
LEAD_HANDED_TO_SALES = "LeadHandedToSales"
CONTACT_TRAITS = ("email", "first_name", "last_name", "phone", "company", "job_title", "locale", "time_zone")


def hand_to_sales(event: dict, publish=None) -> dict:
    """Hand a hot lead to sales: recorded once per run and state, and told to the CRM as
    ``LeadHandedToSales`` (source ``polku.journeys``) on the SalesBus with the lead, its score and
    the run (docs/journeys.md). A retried step publishes the same ``handoff_id`` again only if the
    first attempt did not finish; the CRM de-duplicates on it."""

    from polku.data import journey_state

    customer_id = _require(event, "customer_id")
    journey = _require(event, "journey")
    execution_id = _require(event, "execution_id")
    score = _require(event, "lead_score", (int, float))
    threshold = event.get("threshold")
    key = hashlib.sha256(f"{execution_id}\x1f{event.get('step', '')}\x1fsales_handoff".encode()).hexdigest()[:16]
    traits = profile_view(customer_id).get("traits") or {}
    detail = {"handoff_id": f"ho_{key}", "customer_id": customer_id, "journey": journey, "execution_id": execution_id,
              "lead_score": round(float(score), 2), "threshold": threshold, "handed_at": clock.now_iso(),
              "contact": {k: traits[k] for k in CONTACT_TRAITS if isinstance(traits.get(k), str) and traits[k]}}
    item = journey_state.add_once(customer_id, f"{journey_state.LOG}{key}", journey=journey,
                                  entered_at=detail["handed_at"], status="handing",
                                  detail={"type": "sales_handoff", **detail})
    if item is None:
        item = journey_state.find(customer_id, f"{journey_state.LOG}{key}")
        detail = {k: v for k, v in plain(item.detail).items() if k != "type"}
    if item.status == "handing":
        (publish or _publish_to_sales)(LEAD_HANDED_TO_SALES, detail)
        journey_state.set_status(item, "sales_handoff")
    return {"action": "sales_handoff", "event": LEAD_HANDED_TO_SALES, **detail}


def _publish_to_sales(detail_type: str, detail: dict) -> None:
    from polku.journeys.event_bus import put_event
    from polku.settings import get_settings

    put_event(get_settings().sales_bus_name, SALES_SOURCE, detail_type, detail, setting="SALES_BUS_NAME")


def exit_journey(event: dict) -> dict:
    """The last step of a run: mark the customer's run as exited with a reason."""
    from polku.journeys import runs

    customer_id = _require(event, "customer_id")
    journey = _require(event, "journey")
    reason = event.get("reason") or "completed"
    if reason not in ("completed", "goal"):
        raise StepInputError("reason: completed or goal")
    runs.mark_exited(customer_id, journey, event.get("execution_id"), reason)
    return {"exit": reason, "at": clock.now_iso()}


ACTIONS = {
    "assign_variant": assign_variant,
    "now": now,
    "event_since": event_since,
    "score_gate": score_gate,
    "choose_send_time": choose_send_time,
    "seconds_until": seconds_until,
    "in_time": in_time,
    "event_details": event_details,
    "store_open": store_open,
    "record": record,
    "hand_to_sales": hand_to_sales,
    "exit": exit_journey,
}
# Actions whose result bounds a Wait (lint: a SecondsPath wait must read one of these).
BOUNDED_WAIT_ACTIONS = {"choose_send_time": "wait_seconds", "seconds_until": "seconds"}


def run_step(event: dict) -> dict:
    if not isinstance(event, dict):
        raise StepInputError("input: must be an object")
    action = event.get("action")
    if action not in ACTIONS:
        raise StepInputError(f"action: must be one of {sorted(ACTIONS)}, got {action!r}")
    return ACTIONS[action](event)
