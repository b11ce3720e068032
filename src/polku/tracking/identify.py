"""Use case: identify. Link a browser's anonymous id to a customer and record their traits.

The link is written first (conditional, idempotent); then an ``identify`` event is
stored in the events table like any other event, so the events stream updates
the profile: it folds the anonymous history into the customer's profile and
applies the traits (preferred channel, consents, locale, time zone, ...).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field

from polku import clock
from polku.data import events as event_table
from polku.data import identities
from polku.tracking import event_schema as schema
from polku.tracking import consent_confirmation, event_store, identity
from polku.tracking.normalise import subject_of
from polku.tracking.validation import (
    Invalid,
    check_context,
    check_customer_id,
    check_id,
    check_locale,
    check_time_zone,
    check_ts_window,
    check_value,
    parse_ts,
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
IDENTIFY_FIELDS = ("event_id", "anonymous_id", "customer_id", "ts", "traits", "site_key", "context", "identity_token")
# Who is asking: the shop's backend (server API, simulator), a browser whose identity token verified,
# or a browser without a token on a site that opted in to unverified identify (new customers only).
SERVER, VERIFIED, UNVERIFIED = "server", "verified", "unverified"
MAX_TRAITS = 64


class EventIdConflict(Exception):
    """The identify's ``event_id`` is already the id of a different event; nothing was written."""

    def __init__(self, event_id: str):
        super().__init__(f"{event_id} is already used by a different event; send a new event_id (or none)")
        self.event_id = event_id


@dataclass
class IdentifyResult:
    event_id: str
    customer_id: str
    linked: bool  # this call created the link
    stored: bool  # False: the same identify was stored before
    pending: list = field(default_factory=list)  # consent_confirmation.Confirmation: links to send


def validate_traits(traits) -> dict:
    if traits is None:
        return {}
    if not isinstance(traits, dict):
        raise Invalid("traits", "must be an object")
    if len(traits) > MAX_TRAITS:
        raise Invalid("traits", f"must have at most {MAX_TRAITS} keys")
    check_value(traits, "traits", 1)
    out = {}
    for key, value in traits.items():
        f = f"traits.{key}"
        if value is None:
            continue
        if key == "email" and not (isinstance(value, str) and _EMAIL.match(value)):
            raise Invalid(f, "must be an e-mail address")
        if key == "phone" and not (isinstance(value, str) and _PHONE.match(value)):
            raise Invalid(f, "must be an E.164 phone number, e.g. +358401234567")
        if key == "preferred_channel" and value not in schema.CHANNELS:
            raise Invalid(f, f"must be one of {', '.join(schema.CHANNELS)}")
        if key == "consents":
            if not isinstance(value, dict):
                raise Invalid(f, "must map channel -> true/false")
            for ch, granted in value.items():
                if ch not in schema.CHANNELS:
                    raise Invalid(f"{f}.{ch}", f"must be one of {', '.join(schema.CHANNELS)}")
                if not isinstance(granted, bool):
                    raise Invalid(f"{f}.{ch}", "must be true or false")
        if key == "birthday":
            if not (isinstance(value, str) and _DATE.match(value)):
                raise Invalid(f, "must be a date YYYY-MM-DD")
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise Invalid(f, "must be a real date YYYY-MM-DD") from None
        if key == "locale":
            check_locale(value, f)
        if key == "time_zone":
            check_time_zone(value, f)
        out[key] = value
    return out


def prepare(body, received_at: dt.datetime, site_key: str | None = None) -> tuple[dict, str | None]:
    """Validate an identify request and build its event item (pure). Returns (item, anonymous_id)."""
    if not isinstance(body, dict):
        raise Invalid("body", "must be a JSON object")
    for key in body:
        if key not in IDENTIFY_FIELDS:
            raise Invalid("body", f"has a field that is not an identify field: {key[:64]!r}")
    if body.get("customer_id") is None:
        raise Invalid("customer_id", "is required")
    # The same rules as an event's (validation.validate): ids, reserved prefixes, time window, context.
    check_customer_id(body["customer_id"], "customer_id")
    anon = body.get("anonymous_id")
    if anon is not None:
        check_id(anon, "anonymous_id")
    traits = validate_traits(body.get("traits"))
    ts = parse_ts(body["ts"]) if body.get("ts") is not None else received_at
    check_ts_window(ts, received_at)
    context = body.get("context")
    check_context(context)
    event_id = body.get("event_id")
    if event_id is None:
        # No id given: the same identify (same people, traits and time) is the same event.
        digest = hashlib.sha256(
            json.dumps([anon, body["customer_id"], traits, clock.to_iso(ts)], sort_keys=True).encode()
        ).hexdigest()[:32]
        event_id = f"identify-{digest}"
    check_id(event_id, "event_id")
    client_ts = clock.to_iso(ts)
    item = {
        "event_id": event_id,
        "subject": subject_of(body["customer_id"], None),
        "ts": f"{client_ts}#{event_id}",
        "type": schema.IDENTIFY,
        "client_ts": client_ts,
        "received_at": clock.to_iso(received_at),
        "customer_id": body["customer_id"],
        "properties": {"traits": traits},
    }
    if anon:
        item["anonymous_id"] = anon
    if site_key:
        item["site_key"] = site_key
    if context:
        item["context"] = dict(context)
    return item, anon


def customer_exists(customer_id: str) -> bool:
    """True when Polku knows this customer: a profile, a linked browser or a stored event."""
    from polku.tracking import profile_store

    if profile_store.load(customer_id) is not None:
        return True
    return bool(identities.anonymous_ids_of(customer_id)) or event_table.has_subject(subject_of(customer_id, None))


def identify(body, site_key: str | None = None, *, trust: str = SERVER, verify=None,
             evidence: dict | None = None, confirm_sites: list[str] = (), sms_codes: list[str] = ()) -> IdentifyResult:
    """Link and record traits. ``trust`` says who asks (:data:`SERVER`, the default, for the
    shop's backend and the simulator). A browser's request is ``VERIFIED`` only after
    ``verify(customer_id)`` accepted its identity token (raising :class:`Invalid` with field
    ``identity_token`` otherwise); an ``UNVERIFIED`` identify (a site's opt-in) may only create
    a new customer: for a known one it is refused (field ``identity_token``) before anything is
    written, so it never links a browser to, nor changes the contact traits or consents of, an
    existing customer. ``evidence`` (source, origin, IP, user agent) is stored with the event
    as the record of where consents came from. ``confirm_sites`` (CONSENT_CONFIRMATION_SITES):
    e-mail/SMS consents a browser gives there wait for a confirmation link (double opt-in,
    :mod:`consent_confirmation`; listed in ``pending``). ``sms_codes`` (SMS_CALLING_CODES): an SMS
    consent for a number outside these countries is refused (field ``traits.phone``).

    Raises :class:`Invalid` for bad input, :class:`identity.LinkConflict` when the
    anonymous id already belongs to someone else, and :class:`EventIdConflict` when the
    event id is taken by a different event. Both are found before anything is written (in
    the rare race where another event takes the id between the check and the write, the
    link stays and the answer is still 409: the caller is never told "stored")."""
    item, anon = prepare(body, clock.now(), site_key)
    if trust == VERIFIED:
        if verify is None:
            raise Invalid("identity_token", "cannot be verified: no verifier")
        verify(item["customer_id"])
    traits = item["properties"]["traits"]
    web = trust in (VERIFIED, UNVERIFIED)
    pending = consent_confirmation.pending(traits, web, site_key, list(confirm_sites))
    sms_consent = (traits.get("consents") or {}).get("sms")
    profile = None
    if (sms_consent and not traits.get("phone")) or (sms_codes and traits.get("phone") and sms_consent is None) or \
            any(not traits.get(consent_confirmation.CONFIRMABLE[ch]) for ch in pending):
        profile = _known_profile(item["customer_id"])  # the address a consent is for, or the consent a number gets
    known = (profile or {}).get("traits") or {}
    sms_granted = sms_consent is True or (sms_consent is None and
                                          ((profile or {}).get("consents") or {}).get("sms", {}).get("granted") is True)
    consent_confirmation.check_sms_country(traits.get("phone") or known.get("phone"), sms_granted, list(sms_codes))
    if evidence:
        item["properties"]["evidence"] = {**evidence, "trust": trust}
        if pending:
            item["properties"]["evidence"]["pending"] = pending
    server_time = body.get("ts") is None  # stamped with the receive time: a retry has another
    previous = event_table.get(item["event_id"])
    if previous is not None and not event_store.same_event(previous, item, server_time=server_time):
        raise EventIdConflict(item["event_id"])  # checked before the link is written
    if trust == UNVERIFIED and previous is None and customer_exists(item["customer_id"]):
        raise Invalid("identity_token", "is required to identify an existing customer (this site allows "
                                        "identify without a token only for new customers)")
    linked = identity.link(anon, item["customer_id"], site_key) if anon else False
    outcome = event_store.put_once(item, server_time=server_time)
    if outcome == event_store.CONFLICT:  # a different event took the id since the check above
        raise EventIdConflict(item["event_id"])
    confirmations = [
        consent_confirmation.Confirmation(item["customer_id"], ch, address, item["ts"], site_key)
        for ch in pending
        if (address := traits.get(consent_confirmation.CONFIRMABLE[ch]) or (known or {}).get(consent_confirmation.CONFIRMABLE[ch]))
    ]
    return IdentifyResult(item["event_id"], item["customer_id"], linked, outcome == event_store.STORED, confirmations)


def _known_profile(customer_id: str) -> dict | None:
    from polku.tracking import profile_store

    return profile_store.load(customer_id)
