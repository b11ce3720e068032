"""Lead score: points per event type that fade with a half-life. Pure.

``score(T) = sum(points(e) * 0.5 ** ((T - t_e) / half_life))`` over the customer's
events. The profile keeps the value at a reference time (the newest event seen);
:func:`add` folds in one event whatever order events arrive in (an older event's
points are decayed to the reference time), and :func:`at` reads the score at any
later time. Rules are configurable: ``LEAD_SCORE_RULES`` holds JSON such as
``{"half_life_days": 14, "points": {"purchase": 25}}`` merged over the defaults.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

DEFAULT_POINTS = {
    "page_view": 1,
    "product_view": 2,
    "search": 2,
    "add_to_cart": 5,
    "remove_from_cart": -2,
    "checkout_started": 8,
    "purchase": 20,
    "form_submit": 15,
    "location": 3,
    "email_open": 2,
    "email_click": 5,
    "unsubscribe": -15,
    "identify": 10,
    "custom": 0,
}
DEFAULT_HALF_LIFE_DAYS = 14.0


@dataclass(frozen=True)
class LeadScoreRules:
    points: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS

    @classmethod
    def from_json(cls, text: str | None) -> "LeadScoreRules":
        if not text:
            return cls()
        raw = json.loads(text)
        points = dict(DEFAULT_POINTS)
        points.update({str(k): float(v) for k, v in (raw.get("points") or {}).items()})
        half_life = float(raw.get("half_life_days", DEFAULT_HALF_LIFE_DAYS))
        if half_life <= 0:
            raise ValueError("half_life_days must be positive")
        return cls(points, half_life)

    def points_for(self, event_type: str) -> float:
        return float(self.points.get(event_type, 0))


def _decay(seconds: float, rules: LeadScoreRules) -> float:
    return 0.5 ** (seconds / (rules.half_life_days * 86400.0))


def add(value: float, as_of: dt.datetime | None, event_type: str, at: dt.datetime,
        rules: LeadScoreRules) -> tuple[float, dt.datetime]:
    """Fold one event into (value at as_of). Returns the new (value, as_of)."""
    pts = rules.points_for(event_type)
    if as_of is None:
        return pts, at
    if at >= as_of:
        return value * _decay((at - as_of).total_seconds(), rules) + pts, at
    return value + pts * _decay((as_of - at).total_seconds(), rules), as_of


def at(value: float, as_of: dt.datetime | None, when: dt.datetime, rules: LeadScoreRules) -> float:
    """The score at ``when`` (decayed from the reference time)."""
    if as_of is None:
        return 0.0
    return value * _decay(max(0.0, (when - as_of).total_seconds()), rules)
