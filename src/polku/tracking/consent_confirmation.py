"""Double opt-in (#16 point 3): an e-mail or SMS marketing consent given on the web counts only
once the customer confirmed it through a signed link sent to that address or number.

* :func:`pending` — which consents of a browser's identify wait for confirmation (the site's
  setting ``CONSENT_CONFIRMATION_SITES``; the server API's consents never do: the shop vouches).
* :func:`check_sms_country` — SMS consent only for numbers whose country calling code is in
  ``SMS_CALLING_CODES``.
* :func:`link_token` / :func:`read_token` — the confirmation link's token: signed with the
  link-signing key ring (kind ``cc``, which no other link accepts), naming the customer, the
  channel, the address and the consent it confirms, valid for :data:`LINK_DAYS` days.
* :func:`confirm` — records a ``consent_confirmed`` event; the profile marks the consent confirmed
  if it is still the same consent (a newer consent or another address needs its own link).
* :func:`send_confirmations` — sends the links (an adapter does the sending), at most
  :data:`PER_ADDRESS_PER_DAY` per address and :data:`PER_SITE_PER_HOUR` per site.

Marketing to an unconfirmed consent is skipped by the send policy (``send_policy.check_send``);
transactional messages are unaffected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from html import escape

from polku import clock
from polku.tracking.validation import Invalid

CONFIRMABLE = {"email": "email", "sms": "phone"}  # channel -> the trait holding its address
LINK_DAYS = 7
PER_ADDRESS_PER_DAY = 3
PER_SITE_PER_HOUR = 500
KIND = "cc"


def needs_confirmation(site_key: str | None, sites: list[str]) -> bool:
    return "*" in sites or (site_key is not None and site_key in sites)


def pending(traits: dict, web: bool, site_key: str | None, sites: list[str]) -> list[str]:
    """The channels whose consent, granted in these traits, waits for confirmation."""
    if not web or not needs_confirmation(site_key, sites):
        return []
    consents = traits.get("consents") or {}
    return [ch for ch in CONFIRMABLE if consents.get(ch) is True]


def check_sms_country(phone: str | None, sms_granted: bool, codes: list[str]) -> None:
    """Refuse an SMS consent for a number outside the allowed countries, and a new number outside
    them for a customer who has SMS consent (withdraw it first)."""
    if not sms_granted or not phone or not codes:
        return
    if not any(phone[1:].startswith(code) for code in codes):
        raise Invalid("traits.phone", f"is not in a country this service sends SMS to (calling codes "
                                      f"{', '.join('+' + c for c in codes)}: SMS_CALLING_CODES)")


@dataclass(frozen=True)
class Confirmation:
    customer_id: str
    channel: str
    address: str
    consent_key: str
    site_key: str | None = None


def link_token(ring, c: Confirmation, now: dt.datetime) -> str:
    expires = int((now + dt.timedelta(days=LINK_DAYS)).timestamp())
    return ring.sign({"k": KIND, "c": c.customer_id, "ch": c.channel, "a": c.address, "ck": c.consent_key,
                      "s": c.site_key or "", "x": expires})


def read_token(ring, token: str, now: dt.datetime) -> Confirmation:
    """The confirmation a link names; :class:`Invalid` (field ``token``) when it is not a valid,
    unexpired confirmation link."""
    try:
        claims = ring.verify(token)
    except Exception:  # LinkError: malformed, unknown key, bad signature
        raise Invalid("token", "is not a valid confirmation link") from None
    if claims.get("k") != KIND or claims.get("ch") not in CONFIRMABLE:
        raise Invalid("token", "is not a confirmation link")
    fields = [claims.get(n) for n in ("c", "a", "ck")]
    if not all(isinstance(v, str) and v for v in fields) or not isinstance(claims.get("x"), int):
        raise Invalid("token", "is incomplete")
    if claims["x"] <= now.timestamp():
        raise Invalid("token", f"has expired (links are valid for {LINK_DAYS} days); give your consent again")
    return Confirmation(claims["c"], claims["ch"], claims["a"], claims["ck"], claims.get("s") or None)


def confirmation_event(c: Confirmation, now: dt.datetime) -> dict:
    digest = hashlib.sha256(f"{c.customer_id}|{c.channel}|{c.address}|{c.consent_key}".encode()).hexdigest()[:32]
    return {"event_id": f"confirm-{digest}", "type": "consent_confirmed", "customer_id": c.customer_id,
            "ts": clock.to_iso(now), "properties": {"channel": c.channel, "consent_key": c.consent_key,
                                                     "address": c.address}}


def confirm(ring, token: str) -> Confirmation:
    """Record the confirmation (once: a second click is a duplicate)."""
    from polku.data import events as event_table
    from polku.tracking import server_events

    now = clock.now()
    c = read_token(ring, token, now)
    event = confirmation_event(c, now)
    if event_table.get(event["event_id"]) is None:  # clicked before: already confirmed at that time
        try:
            server_events.record(event, source=c.site_key or server_events.SERVER_SOURCE)
        except Invalid as err:
            if err.field != "event_id":  # two clicks at once: the other one recorded it
                raise
    return c


# ---------------------------------------------------------------- the message and its sending

def message_text(c: Confirmation, url: str) -> tuple[str, str, str]:
    """(subject, text, html) of the confirmation message."""
    what = "marketing e-mails" if c.channel == "email" else "marketing text messages"
    subject = f"Please confirm: {what}"
    text = (f"Someone (hopefully you) asked to receive {what} at this address. To confirm, open:\n{url}\n\n"
            f"If it was not you, ignore this message: nothing will be sent.")
    html = (f"<p>Someone (hopefully you) asked to receive {escape(what)} at this address.</p>"
            f'<p><a href="{escape(url, quote=True)}">Confirm</a></p>'
            f"<p>If it was not you, ignore this message: nothing will be sent.</p>")
    return subject, text, html


def sms_text(url: str) -> str:
    return f"Confirm marketing texts: {url} (ignore if it was not you)"


def windows(now: dt.datetime) -> tuple[tuple[str, int], tuple[str, int]]:
    """(day window, its end), (hour window, its end) — the rate limits' counting windows."""
    day = now.strftime("%Y-%m-%d")
    day_end = int(dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp())
    hour = now.strftime("%Y-%m-%dT%H")
    hour_end = int((now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)).timestamp())
    return (day, day_end), (hour, hour_end)


def send_confirmations(confirmations: list[Confirmation], *, ring, base_url: str, take, deliver) -> dict[str, str]:
    """Send each confirmation link. ``take(key, limit, expires_at) -> bool`` takes one from a
    rate-limit counter; ``deliver(confirmation, url)`` sends it. Returns channel -> outcome
    (``sent``, ``rate limited: ...``, ``failed``); a failure never fails the identify (the consent
    stays unconfirmed; giving it again sends a new link)."""
    from polku.observability import logger

    now = clock.now()
    (day, day_end), (hour, hour_end) = windows(now)
    out = {}
    for c in confirmations:
        if not take(f"confirm#{c.channel}#{c.address}#{day}", PER_ADDRESS_PER_DAY, day_end):
            out[c.channel] = f"rate limited: {PER_ADDRESS_PER_DAY} confirmations per address per day"
            continue
        if not take(f"confirm-site#{c.site_key or '-'}#{hour}", PER_SITE_PER_HOUR, hour_end):
            out[c.channel] = f"rate limited: {PER_SITE_PER_HOUR} confirmations per site per hour"
            continue
        url = f"{base_url.rstrip('/')}/v1/consent/confirm/{link_token(ring, c, now)}"
        try:
            deliver(c, url)
            out[c.channel] = "sent"
        except Exception as exc:  # noqa: BLE001 - logged; the consent stays unconfirmed
            logger.warning("consent confirmation not sent", extra={"channel": c.channel, "error": str(exc)[:300]})
            out[c.channel] = "failed"
    return out
