"""The marketer's view of a simulated journey: what each customer received and what the ERP heard.

A run of the real ASL with the real handlers on the virtual clock (the harness of
``tests/statemachines``) gives simulate's happenings. This module turns them, together with what
the twin's SES and SNS actually accepted and what reached the EventBridge buses, into one
:class:`Outcome` per customer:

* ``messages`` -- what the customer received, in order: channel, UTC and *local* time, subject
  (e-mail subject or push title), text (e-mail text part, SMS text or push body), HTML and
  address, read from the delivered e-mail/SMS/push itself, not from the journey's bookkeeping;
* ``not_sent`` -- steps whose last word was not "sent" (deferred, skipped, failed): a message
  the customer never got;
* ``erp`` -- OfferGranted / OfferRevoked events on the OffersBus, with code, discount, validity
  and reason;
* ``sales`` -- Polku events on a bus about handing the customer to sales (a detail-type or source
  that speaks of sales, a lead or a hand-over), naming the customer;
* ``ended`` -- how each run ended (``completed``, ``goal``, ``stopped``, ...), ``variants``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from polku.clock import parse_iso

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Received:
    """One message as the customer got it."""

    journey: str
    stage: str | None  # the step's label in the journey (its context.stage: reminder, discount, ...)
    channel: str
    at: dt.datetime  # UTC
    local: dt.datetime  # in the customer's time zone
    subject: str  # e-mail subject or push title ("" for SMS)
    text: str  # e-mail text part, SMS text, push body
    html: str
    to: str
    message_type: str | None
    variant: str | None
    line: dict = field(repr=False, compare=False, default_factory=dict)  # simulate's message line

    @property
    def content(self) -> str:
        """Everything the customer can read in it."""
        return "\n".join((self.subject, self.text, self.html))


@dataclass(frozen=True)
class NotSent:
    journey: str
    stage: str | None
    status: str  # deferred | skipped | failed | ...
    reason: str | None
    at: dt.datetime


@dataclass(frozen=True)
class ErpEvent:
    type: str  # OfferGranted | OfferRevoked
    code: str | None
    discount_percent: float | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    reason: str | None  # OfferRevoked: expired | goal | stopped
    at: dt.datetime | None  # granted: valid_from; revoked: revoked_at
    offer_id: str | None
    detail: dict = field(repr=False, compare=False, default_factory=dict)

    @property
    def validity(self) -> dt.timedelta | None:
        return self.valid_until - self.valid_from if self.valid_from and self.valid_until else None


@dataclass(repr=False)
class Outcome:
    customer: str
    zone: ZoneInfo
    messages: list[Received] = field(default_factory=list)
    not_sent: list[NotSent] = field(default_factory=list)
    erp: list[ErpEvent] = field(default_factory=list)
    sales: list[dict] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    variants: list[str] = field(default_factory=list)

    @property
    def channels(self) -> list[str]:
        return [m.channel for m in self.messages]

    @property
    def subjects(self) -> list[str]:
        return [m.subject for m in self.messages]

    def granted(self) -> list[ErpEvent]:
        return [e for e in self.erp if e.type == "OfferGranted"]

    def revoked(self) -> list[ErpEvent]:
        return [e for e in self.erp if e.type == "OfferRevoked"]

    def summary(self) -> str:
        """A readable account for assertion messages."""
        rows = [f"customer {self.customer} ({self.zone.key}) variants={self.variants} ended={self.ended}"]
        for m in self.messages:
            rows.append(f"  {m.local:%a %Y-%m-%d %H:%M} local  {m.channel:<5} [{m.stage}] {m.subject!r} "
                        f"text={m.text[:160]!r}")
        for n in self.not_sent:
            rows.append(f"  NOT SENT [{n.stage}] {n.status}: {n.reason} at {n.at:%Y-%m-%d %H:%M}Z")
        for e in self.erp:
            rows.append(f"  ERP {e.type} {e.code} {e.discount_percent}% {_fmt(e.valid_from)}..{_fmt(e.valid_until)} "
                        f"reason={e.reason} at={_fmt(e.at)}")
        for s in self.sales:
            rows.append(f"  SALES {s.get('detail-type')} {json.dumps(s.get('detail'))[:200]}")
        return "\n".join(rows)

    __str__ = __repr__ = summary


def _fmt(t: dt.datetime | None) -> str:
    return f"{t:%Y-%m-%d %H:%M}Z" if t else "-"


def _time(value) -> dt.datetime | None:
    if not value:
        return None
    try:
        return parse_iso(str(value)).astimezone(UTC)
    except ValueError:
        return None


# ---------------------------------------------------------------- what the providers accepted
class Deliveries:
    """The e-mails, SMS and push messages the twin's SES and SNS accepted, found by message id."""

    def __init__(self, twin):
        self.twin = twin
        self._seen = 0
        self._emails: dict[str, tuple[str, str, str, str]] = {}  # polku message id -> (to, subject, text, html)

    def _index_emails(self) -> None:
        from moto.ses.models import ses_backends

        from polku.twin.twin import ACCOUNT_ID, REGION

        sent = ses_backends[ACCOUNT_ID][REGION].sent_messages
        for m in sent[self._seen:]:
            raw = getattr(m, "raw_data", None)
            if not raw:
                continue
            raw = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
            found = re.search(r"^X-Polku-Message-Id:\s*(\S+)", raw, re.M | re.I)
            if not found:
                continue
            msg = email.message_from_string(raw, policy=email.policy.default)
            text_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
            # A long Subject is folded onto a continuation line ("Subject:\r\n Sorry ..."); the parser
            # keeps that line's leading space, a mail client shows the words: strip it.
            self._emails[found.group(1)] = (str(msg.get("To", "")), str(msg.get("Subject", "")).strip(),
                                            text_part.get_content() if text_part else "",
                                            html_part.get_content() if html_part else "")
        self._seen = len(sent)

    def email(self, message_id: str) -> tuple[str, str, str, str] | None:
        if message_id not in self._emails:
            self._index_emails()
        return self._emails.get(message_id)

    def sms(self, provider_id: str) -> tuple[str, str] | None:
        from moto.sns.models import sns_backends

        from polku.twin.twin import ACCOUNT_ID, REGION

        return sns_backends[ACCOUNT_ID][REGION].sms_messages.get(provider_id)

    def push(self, endpoint_arn: str, provider_id: str) -> tuple[str, str] | None:
        """(title, body) of a push message as the Android (GCM) payload carries it."""
        from moto.sns.models import sns_backends

        from polku.twin.twin import ACCOUNT_ID, REGION

        endpoint = sns_backends[ACCOUNT_ID][REGION].platform_endpoints.get(endpoint_arn)
        raw = endpoint.messages.get(provider_id) if endpoint else None
        if raw is None:
            return None
        payload = json.loads(raw)
        gcm = json.loads(payload.get("GCM") or "{}").get("notification") or {}
        return gcm.get("title") or "", gcm.get("body") or payload.get("default") or ""


# ---------------------------------------------------------------- what reached the buses
class BusListener:
    """Every Polku event on the twin's own buses (OffersBus and any other the template declares),
    queued in SQS by a rule of our own and kept by the customer it names."""

    def __init__(self, twin):
        self.twin = twin
        self.events: list[dict] = []
        sqs, events = twin.client("sqs"), twin.client("events")
        self.queue = sqs.create_queue(QueueName="acceptance-buses")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for bus in events.list_event_buses()["EventBuses"]:  # the default bus too: only polku.* events match
            rule = f"acceptance-{bus['Name']}"[:64]
            events.put_rule(Name=rule, EventBusName=bus["Name"],
                            EventPattern=json.dumps({"source": [{"prefix": "polku"}]}))
            events.put_targets(Rule=rule, EventBusName=bus["Name"], Targets=[{"Id": "acceptance", "Arn": arn}])

    def drain(self) -> None:
        sqs = self.twin.client("sqs")
        while True:
            got = sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return
            for m in got:
                self.events.append(json.loads(m["Body"]))
            sqs.delete_message_batch(QueueUrl=self.queue, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])

    def about(self, customer: str) -> list[dict]:
        return [e for e in self.events if _names(e.get("detail"), customer)]


_SALES = re.compile(r"sales|lead|hand", re.I)  # the hand-over of a lead to sales, however it is named


def _names(detail, customer: str) -> bool:
    """Does an event's detail name this customer (as customer_id, or anywhere in it)?"""
    if isinstance(detail, dict) and detail.get("customer_id") == customer:
        return True
    return customer in json.dumps(detail, default=str)


# ---------------------------------------------------------------- the marketer's view
def outcomes(happenings: list[dict], people: dict, twin, deliveries: Deliveries,
             buses: BusListener) -> dict[str, Outcome]:
    """One :class:`Outcome` per person in ``people`` (customer id -> an object with ``zone``, the
    IANA time zone, and ``push_endpoint``)."""
    buses.drain()
    result = {c: Outcome(c, ZoneInfo(p.zone)) for c, p in people.items()}
    # The last word of each step of each run: a deferred send that is tried again and sent counts once.
    last: dict[tuple, dict] = {}
    runs: dict[str, int] = {}
    for h in happenings:
        c = h["customer_id"]
        if c not in result:
            continue
        o = result[c]
        if h["kind"] == "entered":
            runs[c] = runs.get(c, 0) + 1
            o.variants.append(h.get("variant"))
        elif h["kind"] == "exited":
            o.ended.append(h["reason"])
        elif h["kind"] == "message":
            # One step is one stage of the journey's template; a later try of the same step (after
            # a deferral) replaces the earlier word, whatever state the journey tried it from.
            key = (c, h["journey"], runs.get(c, 0), h.get("stage") or h.get("state"))
            last.pop(key, None)
            last[key] = h  # re-inserted: dict order follows the step's final word
    ddb = twin.client("dynamodb")
    table = twin.names["MessagesTable"]
    for (c, journey, run, _state), h in sorted(last.items(), key=lambda kv: (kv[1]["at"], list(last).index(kv[0]))):
        o = result[c]
        at = parse_iso(h["at"]).astimezone(UTC)
        if h.get("status") != "sent":
            o.not_sent.append(NotSent(journey, h.get("stage"), h.get("status") or "?", h.get("reason"), at))
            continue
        item = ddb.get_item(TableName=table, Key={"message_id": {"S": h["message_id"]}},
                            ConsistentRead=True).get("Item", {})
        s = lambda name: (item.get(name) or {}).get("S")  # noqa: E731
        channel = h.get("channel") or s("channel")
        to, subject, text, html = "", "", "", ""
        if channel == "email":
            to, subject, text, html = deliveries.email(h["message_id"]) or ("", "", "", "")
        elif channel == "sms":
            to, text = deliveries.sms(s("provider_id") or "") or ("", "")
        elif channel == "push":
            to = people[c].push_endpoint or ""
            subject, text = deliveries.push(to, s("provider_id") or "") or ("", "")
        o.messages.append(Received(
            journey=journey, stage=h.get("stage"), channel=channel, at=at, local=at.astimezone(o.zone),
            subject=subject, text=text, html=html, to=to, message_type=s("message_type"), variant=s("variant"),
            line=h))
    for c, o in result.items():
        granted: dict[str, dict] = {}
        for ev in buses.about(c):
            d = ev.get("detail") or {}
            if ev.get("source") == "polku.offer":
                rev = ev.get("detail-type") == "OfferRevoked"
                if not rev:
                    granted[d.get("offer_id")] = d
                g = granted.get(d.get("offer_id"), {}) if rev else d  # a revoke names the offer; its validity is the grant's
                o.erp.append(ErpEvent(
                    type=ev.get("detail-type"), code=d.get("code"), discount_percent=g.get("discount_percent"),
                    valid_from=_time(g.get("valid_from")), valid_until=_time(g.get("valid_until") or g.get("expires_at")),
                    reason=d.get("reason") if rev else None,
                    at=_time(d.get("revoked_at")) if rev else _time(d.get("valid_from") or d.get("granted_at")),
                    offer_id=d.get("offer_id"), detail=d))
            elif _SALES.search(f"{ev.get('source')} {ev.get('detail-type')}"):
                o.sales.append(ev)
        o.erp.sort(key=lambda e: (e.at or dt.datetime.max.replace(tzinfo=UTC), e.type != "OfferGranted"))
    return result


# ---------------------------------------------------------------- marketer's checks
def in_quiet_hours(local: dt.datetime) -> bool:
    """Is this local time inside the quiet hours the settings give (QUIET_HOURS_START/END)?"""
    from polku.messaging.send_time import QuietHours
    from polku.settings import get_settings

    start, end = get_settings().quiet_hours
    return QuietHours(start, end).contains(local)


def price_shown(price: float, content: str) -> bool:
    """A price as a shop shows it: 3.90 or 3,90 (with or without a currency sign)."""
    whole = f"{price:.2f}"
    return whole in content or whole.replace(".", ",") in content


def in_quiet_hours_violations(o: Outcome) -> list[Received]:
    """Marketing messages that reached the customer inside their local quiet hours (a transactional
    message, such as a registration confirmation, may go at once)."""
    return [m for m in o.messages if m.message_type != "transactional" and in_quiet_hours(m.local)]


def step_of(m: Received) -> str:
    """The step as the journey labels it for its template (context.stage), else the message's template."""
    return m.stage or m.line.get("template") or "?"


def shared_subjects(outcomes: list[Outcome], first_names: dict[str, str]) -> dict[tuple, set]:
    """{(variant, subject with the first name blanked): steps} for subjects used by more than one step."""
    seen: dict[tuple, set] = {}
    for o in outcomes:
        name = first_names.get(o.customer)
        for m in o.messages:
            if not m.subject:
                continue  # SMS has no subject
            subject = m.subject.replace(name, "{first_name}") if name else m.subject
            seen.setdefault((m.variant, subject), set()).add(step_of(m))
    return {k: v for k, v in seen.items() if len(v) > 1}


def assert_all_delivered_outside_quiet_hours(cast, at_least: int) -> None:
    """At least ``at_least`` messages went out to the cast; none was lost (not sent), none reached
    anybody in their quiet hours, and each was delivered by a provider."""
    assert sum(len(o.messages) for o in cast.values()) >= at_least, "\n".join(map(str, cast.values()))
    for label, o in cast.items():
        assert o.not_sent == [], f"{label}: {o}"
        assert in_quiet_hours_violations(o) == [], f"{label}: {o}"
        assert all(m.to for m in o.messages), f"{label}: a message no provider delivered\n{o}"


def assert_no_shared_subjects(cast, at_least: int) -> None:
    """At least ``at_least`` messages went out, and no two steps' messages share a subject."""
    assert sum(len(o.messages) for o in cast.values()) >= at_least, "\n".join(map(str, cast.values()))
    assert shared_subjects(list(cast.values()), cast.first_names) == {}


def date_shown(day: dt.date, content: str) -> bool:
    """A date as a message may write it: 8 Jan 2026, Jan 8, 8.1.2026, 2026-01-08, January 8 ..."""
    month, month3 = day.strftime("%B"), day.strftime("%b")
    forms = [day.isoformat(), f"{day.day}.{day.month}.", f"{day.day:02d}.{day.month:02d}.", f"{day.day} {month3}",
             f"{month3} {day.day}", f"{day.day} {month}", f"{month} {day.day}", f"{day.month}/{day.day}"]
    return any(f in content for f in forms)


def plain(text: str) -> str:
    """Text with line ends and runs of spaces made single spaces (for comparing renderings)."""
    return " ".join(text.split())


_URL = re.compile(r"https?://\S+")


def without_links(text: str) -> str:
    """Text without its URLs (each message's tracked links differ; the words are what we compare)."""
    return _URL.sub("", text)
