"""The profile (segment of one) as a fold over the customer's events. Pure: no I/O.

:func:`apply_event` folds one stored event into a profile dict. Every field is
built so that the order of events does not matter (counts add up; "latest" fields
compare the event's ordering key ``<client ts>#<event id>``; the recently-viewed
list is the newest N of all views), so a profile rebuilt from the whole history
equals the one built event by event from the stream, whatever order the stream
delivered them in. Redelivery is recognised by the ``applied`` window: the ids of
the last :data:`APPLIED_WINDOW` events applied (a DynamoDB stream keeps records
for 24 hours and retries a batch a bounded number of times, so a redelivered
record is always a recent one).

Category affinity weights: product_view 1, add_to_cart 3, purchase 5 per item.
Hours of week are UTC (Monday 00:00-00:59 = 0 ... Sunday 23:00 = 167).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable

from polku import clock
from polku.tracking import lead_score
from polku.tracking.event_schema import IDENTIFY

APPLIED_WINDOW = 500
RECENTLY_VIEWED = 20
AFFINITY = {"product_view": 1, "add_to_cart": 3, "purchase": 5}
READ_TYPES = ("email_open", "email_click")

CategoryOf = Callable[[str], "str | None"]


def anonymous_key(anonymous_id: str) -> str:
    return f"anon:{anonymous_id}"


def new_profile(key: str) -> dict:
    return {
        "customer_id": key,
        "anonymous_ids": [],
        "first_seen": None,
        "last_seen": None,
        "counts": {},
        "recently_viewed": [],
        "purchased": {},
        "orders": 0,
        "revenue": 0,
        "last_purchase_at": None,
        "category_affinity": {},
        "open_hours": {},
        "click_hours": {},
        "last_read": None,
        "last_read_key": None,
        "preferred_channel": None,
        "consents": {},
        "traits": {},
        "trait_ts": {},
        "locale": None,
        "time_zone": None,
        "context_ts": None,
        "last_location": None,
        "last_location_key": None,
        "lead_score": 0,
        "lead_score_at": None,
        "merged_into": None,
        "applied": [],
        "version": 0,
    }


def _plain(value):
    """DynamoDB numbers (Decimal) to int/float; recurse into maps and lists."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def hour_of_week(ts: dt.datetime) -> int:
    return ts.weekday() * 24 + ts.hour


def _newer(key: str, previous: str | None) -> bool:
    return previous is None or key >= previous


def _bump(mapping: dict, key: str, amount) -> None:
    mapping[key] = mapping.get(key, 0) + amount


def _affinity(profile: dict, category: str | None, weight: int) -> None:
    if category:
        _bump(profile["category_affinity"], str(category), weight)


def apply_event(
    profile: dict,
    event: dict,
    *,
    rules: lead_score.LeadScoreRules | None = None,
    category_of: CategoryOf | None = None,
) -> bool:
    """Fold one stored event into ``profile`` (in place). False when it was applied before."""
    event = _plain(event)
    event_id = event["event_id"]
    if event_id in profile["applied"]:
        return False
    rules = rules or lead_score.LeadScoreRules()
    category_of = category_of or (lambda _pid: None)
    etype = event["type"]
    ts_text = event["client_ts"]
    key = event.get("ts") or f"{ts_text}#{event_id}"  # the ordering key
    ts = clock.parse_iso(ts_text)
    props = event.get("properties") or {}

    profile["first_seen"] = min(filter(None, [profile["first_seen"], ts_text]))
    profile["last_seen"] = max(filter(None, [profile["last_seen"], ts_text]))
    _bump(profile["counts"], etype, 1)
    anon = event.get("anonymous_id")
    if anon and anon not in profile["anonymous_ids"] and not profile["customer_id"].startswith("anon:"):
        profile["anonymous_ids"] = sorted(profile["anonymous_ids"] + [anon])

    if etype == "product_view":
        pid = str(props["product_id"])
        views = {v["product_id"]: v["ts"] for v in profile["recently_viewed"]}
        if _newer(key, views.get(pid)):
            views[pid] = key
        newest = sorted(views.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)[:RECENTLY_VIEWED]
        profile["recently_viewed"] = [{"product_id": p, "ts": t} for p, t in newest]
        _affinity(profile, props.get("category") or category_of(pid), AFFINITY[etype])
    elif etype == "add_to_cart":
        pid = str(props["product_id"])
        _affinity(profile, props.get("category") or category_of(pid), AFFINITY[etype])
    elif etype == "purchase":
        profile["orders"] += 1
        cents = round(float(profile["revenue"]) * 100) + round(float(props.get("revenue", 0)) * 100)
        profile["revenue"] = cents / 100
        profile["last_purchase_at"] = max(filter(None, [profile["last_purchase_at"], ts_text]))
        for item in props.get("items") or []:
            pid = str(item["product_id"])
            row = profile["purchased"].setdefault(pid, {"quantity": 0, "last_ts": ts_text})
            row["quantity"] += int(item["quantity"])
            row["last_ts"] = max(row["last_ts"], ts_text)
            _affinity(profile, item.get("category") or category_of(pid), AFFINITY[etype])
    elif etype in READ_TYPES:
        hist = profile["open_hours" if etype == "email_open" else "click_hours"]
        _bump(hist, str(hour_of_week(ts)), 1)
        if _newer(key, profile["last_read_key"]):
            profile["last_read"] = {"channel": props.get("channel") or "email", "ts": ts_text}
            profile["last_read_key"] = key
    elif etype == "unsubscribe":
        _consent(profile, props["channel"], False, key)
    elif etype == "location":
        if _newer(key, profile["last_location_key"]):
            loc = {k: props[k] for k in ("store_id", "lat", "lon") if props.get(k) is not None}
            profile["last_location"] = {**loc, "ts": ts_text}
            profile["last_location_key"] = key
    elif etype == IDENTIFY:
        _identify(profile, props.get("traits") or {}, key, props.get("evidence") or {})
    elif etype == "consent_confirmed":
        _confirmed(profile, props, ts_text)

    context = event.get("context") or {}
    if (context.get("locale") or context.get("time_zone")) and _newer(key, profile["context_ts"]):
        profile["locale"] = context.get("locale") or profile["locale"]
        profile["time_zone"] = context.get("time_zone") or profile["time_zone"]
        profile["context_ts"] = key

    value, as_of = lead_score.add(
        float(profile["lead_score"] or 0),
        clock.parse_iso(profile["lead_score_at"]) if profile["lead_score_at"] else None,
        etype,
        ts,
        rules,
    )
    profile["lead_score"] = round(value, 6)
    profile["lead_score_at"] = clock.to_iso(as_of)
    profile["applied"] = (profile["applied"] + [event_id])[-APPLIED_WINDOW:]
    return True


def _consent(profile: dict, channel: str, granted: bool, key: str, evidence: dict | None = None,
             address: str | None = None) -> None:
    """The newest consent per channel wins. With ``evidence`` (an identify's): where it came from
    (``source``, ``trust``); a granted e-mail/SMS consent listed in ``evidence.pending`` is
    ``confirmed: False`` for ``address`` until its confirmation link is used (double opt-in)."""
    current = profile["consents"].get(channel)
    if current is None or _newer(key, current.get("key")):
        entry = {"granted": granted, "ts": key.split("#", 1)[0], "key": key}
        if evidence:
            entry.update({k: evidence[k] for k in ("source", "trust") if evidence.get(k)})
            if granted and channel in (evidence.get("pending") or ()):
                entry["confirmed"] = False
                if address:
                    entry["address"] = address
        profile["consents"][channel] = entry


def _confirmed(profile: dict, props: dict, ts_text: str) -> None:
    """A confirmation link was used: it confirms the consent it was sent for, if that is still
    the customer's consent (a newer one needs its own link)."""
    entry = profile["consents"].get(props.get("channel"))
    if entry and entry.get("key") == props.get("consent_key") and entry.get("confirmed") is False:
        entry["confirmed"] = True
        entry["confirmed_at"] = ts_text
        if props.get("address"):
            entry["address"] = props["address"]


_ADDRESS_TRAIT = {"email": "email", "sms": "phone"}


def _identify(profile: dict, traits: dict, key: str, evidence: dict | None = None) -> None:
    for name, value in traits.items():
        if name == "consents":
            for channel, granted in value.items():
                trait = _ADDRESS_TRAIT.get(channel)
                address = traits.get(trait) or profile["traits"].get(trait) if trait else None
                _consent(profile, channel, bool(granted), key, evidence, address)
            continue
        if _newer(key, profile["trait_ts"].get(name)):
            profile["traits"][name] = value
            profile["trait_ts"][name] = key
            if name == "preferred_channel":
                profile["preferred_channel"] = value
    if (traits.get("locale") or traits.get("time_zone")) and _newer(key, profile["context_ts"]):
        profile["locale"] = traits.get("locale") or profile["locale"]
        profile["time_zone"] = traits.get("time_zone") or profile["time_zone"]
        profile["context_ts"] = key


def build(key: str, events: list[dict], *, rules=None, category_of: CategoryOf | None = None) -> dict:
    """A profile from a whole history (used when identify merges histories)."""
    profile = new_profile(key)
    for event in sorted((_plain(e) for e in events), key=lambda e: e.get("ts") or e["client_ts"]):
        apply_event(profile, event, rules=rules, category_of=category_of)
    return profile


def current_lead_score(profile: dict, when: dt.datetime, rules=None) -> float:
    rules = rules or lead_score.LeadScoreRules()
    as_of = clock.parse_iso(profile["lead_score_at"]) if profile.get("lead_score_at") else None
    return lead_score.at(float(profile.get("lead_score") or 0), as_of, when, rules)
