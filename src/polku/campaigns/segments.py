"""Segments: marketer-written rules over the profile (``segments/*.yaml``). Parsing and evaluation are pure.

A segment file::

    name: lapsed_coffee_lovers
    description: Bought coffee before, not in the last 30 days, and may be e-mailed.
    all:
      - consent: email
      - purchased: {category: coffee}
      - last_purchase: {older_than_days: 30}
      - any:
          - lead_score: {gte: 10}
          - affinity: {category: coffee, gte: 10}
      - not: {trait: {name: vip, eq: true}}

A rule is one mapping with exactly one key:

* ``all: [rules]``, ``any: [rules]``, ``not: rule`` — combinators;
* ``consent: CHANNEL`` — marketing consent for the channel, as the send policy reads it
  (granted, and confirmed when it was given on the web: ``messaging.recipient`` / ``send_policy``);
* ``trait: {name: N, <matcher>}`` — an identify trait (``eq ne gt gte lt lte in not_in exists``,
  the registry's matchers: ``journeys.conditions``);
* ``events: {type: T, <matcher>}`` — how many events of that type the customer has made;
* ``last_seen`` / ``first_seen`` / ``last_purchase`` / ``last_read``:
  ``{within_days: N}`` and/or ``{older_than_days: N}`` — recency of the profile's dated fields
  (a customer with no such date matches ``older_than_days`` only with ``or_never: true``);
* ``purchased: {category: C, min_quantity: 1, within_days: N}`` — bought items of a catalogue category;
* ``affinity: {category: C, <matcher>}`` — the profile's weighted category affinity
  (views 1, cart 3, purchase 5 per item); ``{top: C}`` — C is the customer's strongest category;
* ``lead_score: <matcher>`` — the lead score decayed to *now* (``tracking.lead_score`` rules);
* ``time_zone: <matcher>``, ``locale: <matcher>``, ``orders: <matcher>``, ``revenue: <matcher>``.

Evaluation (:func:`matches`) is a pure function of the profile (a plain dict, as
``tracking.profile_builder`` writes it), the time ``now``, the lead-score rules and a
product -> category lookup.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from polku import clock
from polku.campaigns import files
from polku.journeys.conditions import OPERATORS, ConditionError, check_matcher, lookup, matches_value
from polku.tracking import lead_score

DATE_FIELDS = {"last_seen": "last_seen", "first_seen": "first_seen", "last_purchase": "last_purchase_at",
               "last_read": "last_read"}
VALUE_FIELDS = ("time_zone", "locale", "orders", "revenue", "lead_score")
KINDS = ("all", "any", "not", "consent", "trait", "events", "purchased", "affinity", *DATE_FIELDS, *VALUE_FIELDS)
CONSENT_CHANNELS = ("email", "sms", "push", "webhook")
MAX_DEPTH = 8

CategoryOf = Callable[[str], "str | None"]


class SegmentError(ValueError):
    """A segment file is wrong (the message names the file and the field)."""


@dataclass(frozen=True)
class Segment:
    name: str
    rule: dict
    description: str = ""
    path: str | None = None
    uses_categories: bool = field(default=False, compare=False)

    def matches(self, profile: dict, now: _dt.datetime, *, rules: lead_score.LeadScoreRules | None = None,
                category_of: CategoryOf | None = None) -> bool:
        return matches(self.rule, profile, now, rules=rules, category_of=category_of)


# ---------------------------------------------------------------- parsing
def parse(doc: Any, *, name: str | None = None, path: str | None = None) -> Segment:
    where = path or "segment"
    if not isinstance(doc, dict):
        raise SegmentError(f"{where}: must be a mapping with name and one rule (all, any, not, ...)")
    seg_name = doc.get("name", name)
    if not isinstance(seg_name, str) or not files.NAME.match(seg_name):
        raise SegmentError(f"{where}: name: lower-case letters, digits and _ (at most 48), got {seg_name!r}")
    if name is not None and seg_name != name:
        raise SegmentError(f"{where}: name: {seg_name!r} differs from the file name {name!r}")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise SegmentError(f"{where}: description: must be text")
    body = {k: v for k, v in doc.items() if k not in ("name", "description")}
    if len(body) != 1:
        raise SegmentError(f"{where}: give exactly one top-level rule (e.g. all: [...]), got {sorted(body) or 'none'}")
    uses = []
    _check(body, where, "", 0, uses)
    return Segment(seg_name, body, description, path, bool(uses))


def _check(rule: Any, where: str, at: str, depth: int, uses: list) -> None:
    if depth > MAX_DEPTH:
        raise SegmentError(f"{where}: {at or 'rule'}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(rule, dict) or len(rule) != 1:
        raise SegmentError(f"{where}: {at or 'rule'}: a rule is a mapping with one key from {', '.join(KINDS)}")
    (kind, arg), = rule.items()
    here = f"{at}.{kind}" if at else kind
    if kind not in KINDS:
        raise SegmentError(f"{where}: {here}: unknown rule; use one of {', '.join(KINDS)}")
    try:
        if kind in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                raise SegmentError(f"{where}: {here}: needs a non-empty list of rules")
            for i, sub in enumerate(arg):
                _check(sub, where, f"{here}[{i}]", depth + 1, uses)
        elif kind == "not":
            _check(arg, where, here, depth + 1, uses)
        elif kind == "consent":
            if arg not in CONSENT_CHANNELS:
                raise SegmentError(f"{where}: {here}: a channel from {', '.join(CONSENT_CHANNELS)}, got {arg!r}")
        elif kind in ("trait", "events"):
            key = "name" if kind == "trait" else "type"
            if not isinstance(arg, dict) or not isinstance(arg.get(key), str) or not arg[key]:
                raise SegmentError(f"{where}: {here}.{key}: required (text)")
            matcher = {k: v for k, v in arg.items() if k != key}
            if not matcher:
                raise SegmentError(f"{where}: {here}: give a matcher ({', '.join(OPERATORS)})")
            check_matcher(f"{where}: {here}", matcher)
        elif kind in DATE_FIELDS:
            _check_recency(arg, f"{where}: {here}", ("within_days", "older_than_days", "or_never"))
        elif kind == "purchased":
            if not isinstance(arg, dict) or not isinstance(arg.get("category"), str) or not arg["category"]:
                raise SegmentError(f"{where}: {here}.category: required (a catalogue category)")
            unknown = set(arg) - {"category", "min_quantity", "within_days"}
            if unknown:
                raise SegmentError(f"{where}: {here}: unknown field {sorted(unknown)[0]!r}")
            q = arg.get("min_quantity", 1)
            if not isinstance(q, int) or isinstance(q, bool) or q < 1:
                raise SegmentError(f"{where}: {here}.min_quantity: a whole number of at least 1")
            if "within_days" in arg:
                _check_recency({"within_days": arg["within_days"]}, f"{where}: {here}", ("within_days",))
            uses.append(here)
        elif kind == "affinity":
            if not isinstance(arg, dict) or not (isinstance(arg.get("category"), str) or isinstance(arg.get("top"), str)):
                raise SegmentError(f"{where}: {here}: give category (with a matcher) or top: CATEGORY")
            if "top" in arg:
                if len(arg) != 1:
                    raise SegmentError(f"{where}: {here}: top stands alone")
            else:
                matcher = {k: v for k, v in arg.items() if k != "category"}
                if not matcher:
                    raise SegmentError(f"{where}: {here}: give a matcher ({', '.join(OPERATORS)})")
                check_matcher(f"{where}: {here}", matcher)
        else:  # a value field
            check_matcher(f"{where}: {here}", arg)
    except ConditionError as exc:
        raise SegmentError(str(exc)) from None


def _check_recency(arg: Any, where: str, allowed: tuple) -> None:
    if not isinstance(arg, dict) or not arg or set(arg) - set(allowed):
        raise SegmentError(f"{where}: give {' and/or '.join(a for a in allowed if a != 'or_never')}")
    for key in ("within_days", "older_than_days"):
        if key in arg and (isinstance(arg[key], bool) or not isinstance(arg[key], (int, float)) or arg[key] < 0):
            raise SegmentError(f"{where}.{key}: a number of days (0 or more)")
    if "or_never" in arg and not isinstance(arg["or_never"], bool):
        raise SegmentError(f"{where}.or_never: true or false")
    if not ({"within_days", "older_than_days"} & set(arg)):
        raise SegmentError(f"{where}: give within_days and/or older_than_days")


# ---------------------------------------------------------------- files
def default_dir() -> Path:
    return files.ROOT / "segments"


def load(name: str, folder: Path | None = None) -> Segment:
    doc, where = files.read("segment", name, folder or default_dir(), SegmentError)
    return parse(doc, name=name, path=where)


def load_all(folder: Path | None = None) -> dict[str, Segment]:
    folder = folder or default_dir()
    return {p.stem: load(p.stem, folder) for p in sorted(folder.glob("*.yaml"))}


# ---------------------------------------------------------------- evaluation
def _date(value: Any) -> _dt.datetime | None:
    if isinstance(value, dict):
        value = value.get("ts")
    if not isinstance(value, str) or not value:
        return None
    try:
        return clock.parse_iso(value)
    except ValueError:
        return None


def _recent(when: _dt.datetime | None, arg: dict, now: _dt.datetime) -> bool:
    if when is None:
        return bool(arg.get("or_never")) and "within_days" not in arg
    age_days = (now - when).total_seconds() / 86400.0
    if "within_days" in arg and age_days > float(arg["within_days"]):
        return False
    if "older_than_days" in arg and age_days <= float(arg["older_than_days"]):
        return False
    return True


def _consented(profile: dict, channel: str) -> bool:
    from polku.messaging.recipient import Recipient

    recipient = Recipient.from_profile(profile)
    return recipient.has_consent(channel) and channel not in recipient.unconfirmed


def _purchased(profile: dict, arg: dict, now: _dt.datetime, category_of: CategoryOf | None) -> bool:
    if category_of is None:
        return False
    quantity = 0
    for pid, row in (profile.get("purchased") or {}).items():
        if category_of(str(pid)) != arg["category"]:
            continue
        if "within_days" in arg and not _recent(_date((row or {}).get("last_ts")), {"within_days": arg["within_days"]}, now):
            continue
        quantity += int((row or {}).get("quantity") or 0)
    return quantity >= int(arg.get("min_quantity", 1))


def current_score(profile: dict, now: _dt.datetime, rules: lead_score.LeadScoreRules | None) -> float:
    from polku.tracking.profile_builder import current_lead_score

    return current_lead_score(profile, now, rules)


def matches(rule: dict, profile: dict, now: _dt.datetime, *, rules: lead_score.LeadScoreRules | None = None,
            category_of: CategoryOf | None = None) -> bool:
    """Does ``profile`` (a plain profile dict) belong to the segment ``rule`` at ``now``?"""
    (kind, arg), = rule.items()
    if kind == "all":
        return all(matches(r, profile, now, rules=rules, category_of=category_of) for r in arg)
    if kind == "any":
        return any(matches(r, profile, now, rules=rules, category_of=category_of) for r in arg)
    if kind == "not":
        return not matches(arg, profile, now, rules=rules, category_of=category_of)
    if kind == "consent":
        return _consented(profile, arg)
    if kind == "trait":
        return matches_value(lookup(profile.get("traits") or {}, arg["name"]), {k: v for k, v in arg.items() if k != "name"})
    if kind == "events":
        count = (profile.get("counts") or {}).get(arg["type"], 0)
        return matches_value(count, {k: v for k, v in arg.items() if k != "type"})
    if kind in DATE_FIELDS:
        return _recent(_date(profile.get(DATE_FIELDS[kind])), arg, now)
    if kind == "purchased":
        return _purchased(profile, arg, now, category_of)
    if kind == "affinity":
        aff = profile.get("category_affinity") or {}
        if "top" in arg:
            return bool(aff) and max(sorted(aff), key=lambda c: float(aff[c] or 0)) == arg["top"] and float(aff[arg["top"]]) > 0
        return matches_value(aff.get(arg["category"], 0), {k: v for k, v in arg.items() if k != "category"})
    if kind == "lead_score":
        return matches_value(current_score(profile, now, rules), arg)
    return matches_value(lookup(profile, kind), arg)
