"""Automatic pause of marketing e-mail when the SES bounce or complaint rate reaches AWS's review level.

SES puts an account under review at a 5 % bounce rate or a 0.1 % complaint rate and may pause it
later; the alarms (docs/operations.md) warn earlier, at 3 % and 0.05 %. Here Polku stops itself at
the review level, before SES does:

* The Feedback function counts SES ``Delivery`` events, permanent ``Bounce`` events and
  ``Complaint`` events per hour (RateLimitsTable, keys ``ses-<kind>#<hour>``, gone after two days).
* After each bounce or complaint it sums the last 24 hours; with at least :data:`MIN_VOLUME`
  e-mails (deliveries + bounces) and a rate at or over the limit it sets the pause
  (key ``sending-paused``, with the reason).
* Send defers every marketing e-mail while the pause is set (``check_send``: ``deferred``, retry in
  an hour; the journeys wait and try again, nothing is lost). Transactional mail, SMS and push go on.
* ``polku sending status|resume`` shows and lifts the pause after the cause is fixed (runbook in
  docs/operations.md). The pause does not lift itself.

An SNS redelivery of one SES event counts it twice; the rate is a guard, not a bill.
"""

from __future__ import annotations

import datetime as dt
import time

from polku import clock
from polku.data import rate_limits

BOUNCE_LIMIT = 0.05
COMPLAINT_LIMIT = 0.001
MIN_VOLUME = 100  # e-mails in the window before a rate means anything
WINDOW_HOURS = 24
RETRY_AFTER = dt.timedelta(hours=1)
_CACHE_SECONDS = 30.0
_cache: dict = {"at": -1e9, "reason": None}


def _hour(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H")


def record(kind: str, at: dt.datetime | None = None) -> str | None:
    """Count one SES outcome (``delivery``, ``bounce`` (permanent) or ``complaint``); after a bounce
    or complaint, set the pause if a rate is over its limit and it is not set yet. Returns the pause
    reason if it was set now."""
    if kind not in ("delivery", "bounce", "complaint"):
        return None
    now = at or clock.now()
    expires = int((now + dt.timedelta(hours=WINDOW_HOURS * 2)).timestamp())
    rate_limits.count(f"ses-{kind}#{_hour(now)}", expires)
    if kind == "delivery":
        return None
    reason = over_limit(now)
    if reason:
        # The first crossing sets the pause; later bounces leave its reason and time as they are.
        if not rate_limits.pause_sending(reason, clock.to_iso(now)):
            return None
        _cache["at"] = -1e9
    return reason


def rates(now: dt.datetime | None = None) -> dict:
    """E-mails, bounces and complaints of the last :data:`WINDOW_HOURS` hours and their rates."""
    now = now or clock.now()
    hours = [_hour(now - dt.timedelta(hours=h)) for h in range(WINDOW_HOURS)]
    keys = [f"ses-{kind}#{h}" for kind in ("delivery", "bounce", "complaint") for h in hours]
    totals = {"delivery": 0, "bounce": 0, "complaint": 0}
    for item in rate_limits.of_keys(keys):
        totals[item.key.split("#", 1)[0][4:]] += int(item.count or 0)
    emails = totals["delivery"] + totals["bounce"]
    return {"emails": emails, "bounces": totals["bounce"], "complaints": totals["complaint"],
            "bounce_rate": totals["bounce"] / emails if emails else 0.0,
            "complaint_rate": totals["complaint"] / emails if emails else 0.0}


def over_limit(now: dt.datetime | None = None) -> str | None:
    r = rates(now)
    if r["emails"] < MIN_VOLUME:
        return None
    if r["bounce_rate"] >= BOUNCE_LIMIT:
        return (f"bounce rate {r['bounce_rate']:.1%} over {WINDOW_HOURS} h ({r['bounces']} of {r['emails']} e-mails; "
                f"limit {BOUNCE_LIMIT:.0%})")
    if r["complaint_rate"] >= COMPLAINT_LIMIT:
        return (f"complaint rate {r['complaint_rate']:.2%} over {WINDOW_HOURS} h ({r['complaints']} of {r['emails']} "
                f"e-mails; limit {COMPLAINT_LIMIT:.1%})")
    return None


def paused_reason(fresh: bool = False) -> str | None:
    """Why marketing e-mail is paused, or None (read at most every 30 s per container)."""
    if not fresh and time.monotonic() - _cache["at"] < _CACHE_SECONDS:
        return _cache["reason"]
    item = rate_limits.sending_pause()
    reason = f"marketing e-mail paused since {item.since}: {item.reason}" if item else None
    _cache.update(at=time.monotonic(), reason=reason)
    return reason


def resume() -> bool:
    """Lift the pause; True if there was one."""
    _cache["at"] = -1e9
    return rate_limits.lift_sending_pause()
