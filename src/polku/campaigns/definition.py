"""Campaign files (``campaigns/*.yaml``): a one-off send to a segment. Parsing is pure.

::

    name: spring_newsletter
    description: Spring coffee news for lapsed coffee lovers
    segment: lapsed_coffee_lovers          # segments/lapsed_coffee_lovers.yaml
    template: spring_newsletter            # templates/messages/spring_newsletter/<locale>.j2
    message_type: newsletter               # newsletter | offer | reminder (never transactional)
    channel: email                         # optional: ask for one channel (else the channel policy picks)
    recommend: {strategy: category_favourites, count: 3}   # optional, per recipient
    offer: {code: SPRING15, discount_percent: 15, valid_days: 7, title: 15 % off coffee}  # optional
    send:
      local_time: "2026-04-14T09:00"       # at 09:00 in each recipient's time zone, or
      # best_hour: {from: "2026-04-14T06:00:00Z", window_hours: 24}   # each recipient's best hour, or
      # at: "2026-04-14T07:00:00Z"                                    # one moment for all
    variants: {A: 0.5, B: 0.5}             # A/B split (the template reads message.variant)
    holdout: 0.1                           # share kept out to measure the lift

Consent, suppression, frequency caps, quiet hours and channel choice are the Send
function's (the same policy as journeys'); a campaign cannot switch them off.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from polku import clock
from polku.campaigns import files

MESSAGE_TYPES = ("newsletter", "offer", "reminder")
CHANNELS = ("email", "sms", "push")
MAX_HOLDOUT = 0.5
MAX_VALID_DAYS = 31
PREFIX = "campaign:"  # the message log's ``journey`` of a campaign message: campaign:<name>


class CampaignError(ValueError):
    """A campaign file or a campaign input is wrong (the message names the field)."""


@dataclass(frozen=True)
class SendWindow:
    mode: str  # at | local_time | best_hour
    at: str | None = None  # ISO UTC (at; best_hour: window start)
    local_time: str | None = None  # YYYY-MM-DDTHH:MM in each recipient's zone
    window_hours: int = 24  # best_hour


@dataclass(frozen=True)
class Campaign:
    name: str
    segment: str
    template: str
    send: SendWindow
    message_type: str = "newsletter"
    description: str = ""
    channel: str | None = None
    recommend: dict | None = None
    offer: dict | None = None
    variants: dict = field(default_factory=lambda: {"A": 1.0})
    holdout: float = 0.0
    default_time_zone: str = "UTC"

    @property
    def journey(self) -> str:
        """What the message log and links record as the message's journey."""
        return PREFIX + self.name

    def to_dict(self) -> dict:
        return json.loads(json.dumps(asdict(self)))

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:12]


def _text(doc: dict, key: str, where: str, *, required=True, pattern=None, max_len=256):
    value = doc.get(key)
    if value is None or value == "":
        if required:
            raise CampaignError(f"{where}: {key}: required")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise CampaignError(f"{where}: {key}: text of at most {max_len} characters")
    if pattern is not None and not pattern.match(value):
        raise CampaignError(f"{where}: {key}: lower-case letters, digits and _ (at most 48), got {value!r}")
    return value


def _iso(value: Any, where: str) -> str:
    if isinstance(value, _dt.datetime):
        value = clock.to_iso(value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc))
    if not isinstance(value, str):
        raise CampaignError(f"{where}: an ISO-8601 time with a zone (e.g. 2026-04-14T07:00:00Z)")
    try:
        parsed = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CampaignError(f"{where}: not an ISO-8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise CampaignError(f"{where}: give the zone (Z or +hh:mm): {value!r}")
    return clock.to_iso(parsed)


def _send(doc: Any, where: str) -> SendWindow:
    where = f"{where}: send"
    if isinstance(doc, dict) and "mode" in doc:  # the parsed form (execution input)
        doc = {doc["mode"]: doc.get("local_time") if doc["mode"] == "local_time" else
               ({"from": doc.get("at"), "window_hours": doc.get("window_hours", 24)} if doc["mode"] == "best_hour"
                else doc.get("at"))}
    if not isinstance(doc, dict) or len(doc) != 1 or next(iter(doc)) not in ("at", "local_time", "best_hour"):
        raise CampaignError(f"{where}: give one of at, local_time or best_hour")
    (mode, arg), = doc.items()
    if mode == "at":
        return SendWindow("at", at=_iso(arg, f"{where}.at"))
    if mode == "local_time":
        if isinstance(arg, _dt.datetime):
            arg = arg.strftime("%Y-%m-%dT%H:%M")
        try:
            parsed = _dt.datetime.strptime(str(arg), "%Y-%m-%dT%H:%M")
        except ValueError:
            raise CampaignError(f"{where}.local_time: a local date and time YYYY-MM-DDTHH:MM, got {arg!r}") from None
        return SendWindow("local_time", local_time=parsed.strftime("%Y-%m-%dT%H:%M"))
    if not isinstance(arg, dict) or set(arg) - {"from", "window_hours"} or "from" not in arg:
        raise CampaignError(f"{where}.best_hour: give from (ISO-8601) and window_hours")
    hours = arg.get("window_hours", 24)
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= 168:
        raise CampaignError(f"{where}.best_hour.window_hours: a whole number from 1 to 168")
    return SendWindow("best_hour", at=_iso(arg["from"], f"{where}.best_hour.from"), window_hours=hours)


def _variants(value: Any, where: str) -> dict:
    if value is None:
        return {"A": 1.0}
    if not isinstance(value, dict) or not value:
        raise CampaignError(f"{where}: variants: a mapping of variant name to share, e.g. {{A: 0.5, B: 0.5}}")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not re.match(r"^[A-Za-z0-9_]{1,32}$", k) or k == "holdout":
            raise CampaignError(f"{where}: variants: name {k!r}: letters, digits and _ (not 'holdout')")
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise CampaignError(f"{where}: variants.{k}: a share from 0 to 1")
        out[k] = float(v)
    if abs(sum(out.values()) - 1.0) > 1e-9:
        raise CampaignError(f"{where}: variants: shares must sum to 1 (got {sum(out.values()):g})")
    return out


def _offer(value: Any, where: str) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise CampaignError(f"{where}: offer: a mapping with code, discount_percent, valid_days")
    unknown = set(value) - {"code", "discount_percent", "valid_days", "title"}
    if unknown:
        raise CampaignError(f"{where}: offer: unknown field {sorted(unknown)[0]!r}")
    code = value.get("code")
    if not isinstance(code, str) or not re.match(r"^[A-Za-z0-9_-]{1,32}$", code):
        raise CampaignError(f"{where}: offer.code: letters, digits, - and _ (at most 32)")
    pct = value.get("discount_percent")
    if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 < pct <= 100:
        raise CampaignError(f"{where}: offer.discount_percent: a number in (0, 100]")
    days = value.get("valid_days")
    if isinstance(days, bool) or not isinstance(days, (int, float)) or not 0 < days <= MAX_VALID_DAYS:
        raise CampaignError(f"{where}: offer.valid_days: a number of days in (0, {MAX_VALID_DAYS}]")
    title = value.get("title")
    if title is not None and (not isinstance(title, str) or len(title) > 120):
        raise CampaignError(f"{where}: offer.title: text of at most 120 characters")
    return {k: v for k, v in (("code", code), ("discount_percent", pct), ("valid_days", days), ("title", title))
            if v is not None}


def parse(doc: Any, *, name: str | None = None, where: str | None = None) -> Campaign:
    where = where or "campaign"
    if not isinstance(doc, dict):
        raise CampaignError(f"{where}: must be a mapping (name, segment, template, send, ...)")
    known = {"name", "description", "segment", "template", "message_type", "channel", "recommend", "offer", "send",
             "variants", "holdout", "default_time_zone"}
    unknown = set(doc) - known
    if unknown:
        raise CampaignError(f"{where}: unknown field {sorted(unknown)[0]!r} (known: {', '.join(sorted(known))})")
    cname = _text(doc, "name", where, pattern=files.NAME)
    if name is not None and cname != name:
        raise CampaignError(f"{where}: name: {cname!r} differs from the file name {name!r}")
    message_type = doc.get("message_type", "newsletter")
    if message_type not in MESSAGE_TYPES:
        raise CampaignError(f"{where}: message_type: one of {', '.join(MESSAGE_TYPES)} (campaigns are marketing), "
                            f"got {message_type!r}")
    channel = doc.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise CampaignError(f"{where}: channel: one of {', '.join(CHANNELS)}, got {channel!r}")
    recommend = doc.get("recommend")
    if recommend is not None:
        if not isinstance(recommend, dict) or not isinstance(recommend.get("strategy"), str):
            raise CampaignError(f"{where}: recommend.strategy: required (a recommendation strategy)")
        count = recommend.get("count", 4)
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 12:
            raise CampaignError(f"{where}: recommend.count: a whole number from 1 to 12")
    holdout = doc.get("holdout", 0)
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float)) or not 0 <= holdout <= MAX_HOLDOUT:
        raise CampaignError(f"{where}: holdout: a share from 0 to {MAX_HOLDOUT}")
    tz = doc.get("default_time_zone", "UTC")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise CampaignError(f"{where}: default_time_zone: not a time zone: {tz!r}") from None
    return Campaign(
        name=cname,
        segment=_text(doc, "segment", where, pattern=files.NAME),
        template=_text(doc, "template", where, pattern=files.NAME),
        send=_send(doc.get("send"), where),
        message_type=message_type,
        description=_text(doc, "description", where, required=False, max_len=500) or "",
        channel=channel,
        recommend=dict(recommend) if recommend is not None else None,
        offer=_offer(doc.get("offer"), where),
        variants=_variants(doc.get("variants"), where),
        holdout=float(holdout),
        default_time_zone=str(tz),
    )


def from_dict(value: Any) -> Campaign:
    """A campaign from its ``to_dict`` form (an execution's input), checked again."""
    if not isinstance(value, dict):
        raise CampaignError("campaign: must be an object")
    doc = dict(value)
    return parse(doc, where="campaign")


# ---------------------------------------------------------------- files
def default_dir() -> Path:
    return files.ROOT / "campaigns"


def load(name: str, folder: Path | None = None) -> Campaign:
    doc, where = files.read("campaign", name, folder or default_dir(), CampaignError)
    return parse(doc, name=name, where=where)
