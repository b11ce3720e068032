"""The recipient: what messaging needs to know about one customer, read from a profile.

Built from the profile item (a plain dict, as stored by the tracking issue's profile
builder) and tolerant of missing fields: an empty profile gives a recipient with no
addresses and no consent, who therefore gets nothing. Field names are documented in
docs/messages.md ("Profile fields read").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

CHANNELS = ("email", "sms", "push", "webhook", "web")
HOURS_OF_WEEK = 168


def _plain(value: Any) -> Any:
    """PynamoDB MapAttribute / Decimal -> plain Python."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if type(value).__name__ == "Decimal":
        return int(value) if value == int(value) else float(value)
    return value


def _histogram(value: Any) -> list[float]:
    """``{"0": 3, "25": 1}`` or a list of 168 numbers -> a list of 168 floats."""
    hist = [0.0] * HOURS_OF_WEEK
    value = _plain(value)
    if isinstance(value, Mapping):
        for k, v in value.items():
            try:
                i, n = int(k), float(v)
            except (TypeError, ValueError):
                continue
            if 0 <= i < HOURS_OF_WEEK and n > 0:
                hist[i] += n
    elif isinstance(value, list):
        for i, v in enumerate(value[:HOURS_OF_WEEK]):
            try:
                hist[i] = max(0.0, float(v))
            except (TypeError, ValueError):
                pass
    return hist


def _granted(value: Any) -> bool | None:
    """A consent entry: ``True``/``False``, ``{"granted": bool, "ts": ...}`` or ``"granted"``/``"withdrawn"``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Mapping):
        g = value.get("granted")
        return g if isinstance(g, bool) else None
    if isinstance(value, str):
        return {"granted": True, "yes": True, "true": True, "withdrawn": False, "no": False, "false": False}.get(value.lower())
    return None


@dataclass(frozen=True)
class Recipient:
    customer_id: str
    email: str | None = None
    phone: str | None = None
    push_endpoint: str | None = None  # SNS platform endpoint ARN
    webhook: bool = False  # the webhook channel needs no address of its own
    browser: bool = False  # a browser is linked to the customer (profile anonymous_ids): the web inbox
    first_name: str | None = None
    locale: str | None = None
    time_zone: str | None = None
    preferred_channel: str | None = None
    last_channel: str | None = None  # where they last opened/clicked (profile last_read.channel)
    consents: dict[str, bool] = field(default_factory=dict)  # channel -> granted (absent = unknown)
    # Channels whose consent was given on the web and awaits its confirmation link (double opt-in,
    # polku.tracking.consent_confirmation), or was confirmed for another address than today's.
    unconfirmed: frozenset = frozenset()
    open_hours: tuple[float, ...] = (0.0,) * HOURS_OF_WEEK  # UTC hour of week -> opens + clicks
    traits: dict[str, Any] = field(default_factory=dict)

    def address(self, channel: str) -> str | None:
        return {"email": self.email, "sms": self.phone, "push": self.push_endpoint}.get(channel) or (
            self.customer_id if (channel == "webhook" and self.webhook) or (channel == "web" and self.browser) else None
        )

    def has_consent(self, channel: str, *, transactional: bool = False) -> bool:
        """Marketing needs a granted consent; a transactional message (an order
        confirmation) needs only that consent was not withdrawn. A web card is on-site content,
        shown only on the shop's own pages to the customer's own browser (whose tracking consent
        tracker.js keeps): it needs only that ``web`` was not withdrawn (docs/onsite.md)."""
        granted = self.consents.get(channel)
        if channel == "web":
            return granted is not False
        return granted is not False if transactional else granted is True

    @property
    def history_weight(self) -> float:
        return float(sum(self.open_hours))

    @classmethod
    def from_profile(cls, profile: Mapping[str, Any] | None, customer_id: str | None = None) -> "Recipient":
        p = _plain(profile or {})
        traits = p.get("traits") if isinstance(p.get("traits"), Mapping) else {}
        pick = lambda *names: next((v for v in (p.get(n, traits.get(n)) for n in names) if v not in (None, "")), None)  # noqa: E731
        consents: dict[str, bool] = {}
        unconfirmed = set()
        raw_consents = p.get("consents") if isinstance(p.get("consents"), Mapping) else traits.get("consents")
        if isinstance(raw_consents, Mapping):
            for ch, v in raw_consents.items():
                g = _granted(v)
                if g is not None:
                    consents[str(ch)] = g
                if isinstance(v, Mapping) and "confirmed" in v:
                    current = pick("email") if ch == "email" else pick("phone") if ch == "sms" else None
                    if v.get("confirmed") is not True or (v.get("address") and current and v["address"] != current):
                        unconfirmed.add(str(ch))
        last_read = p.get("last_read") if isinstance(p.get("last_read"), Mapping) else {}
        hist = _histogram(p.get("open_hours"))
        clicks = _histogram(p.get("click_hours"))
        combined = tuple(a + b for a, b in zip(hist, clicks))
        preferred = pick("preferred_channel")
        last_channel = last_read.get("channel") or pick("last_channel")
        return cls(
            customer_id=str(customer_id or p.get("customer_id") or ""),
            email=pick("email"),
            phone=pick("phone"),
            push_endpoint=pick("push_endpoint", "push_endpoint_arn"),
            webhook=bool(pick("webhook")),
            browser=bool(p.get("anonymous_ids")),
            first_name=pick("first_name"),
            locale=pick("locale"),
            time_zone=pick("time_zone", "timezone"),
            preferred_channel=preferred if preferred in CHANNELS else None,
            last_channel=last_channel if last_channel in CHANNELS else None,
            consents=consents,
            unconfirmed=frozenset(unconfirmed),
            open_hours=combined,
            traits=dict(traits),
        )
