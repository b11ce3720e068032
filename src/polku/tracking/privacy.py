"""Use cases: export and erase everything Polku holds about one customer or one anonymous visitor.

For a customer, "everything" is: their events (under the customer id and under every
anonymous id linked to them), their profile and the profiles of those anonymous ids,
the identity links, their message history (messages table), their journey state
(under the customer id and under each linked browser's profile key) and the journey
executions it names, the suppression-list rows of their addresses, the enrolment items
about them (their per-customer item with the salesperson's override text, partner links,
their id in audit samples), the consent-confirmation rate-limit counters of their
addresses, and their lines in the analytics exports (AnalyticsBucket, ``exports/``).

For an anonymous visitor (a browser that never identified), it is: the events stored
under its anonymous id, its anonymous profile (``anon:<id>``) and anything stored under
that profile key in the other places. A browser that is linked to a customer is part of
that customer's history: it can be exported on its own, but it is erased by erasing the
customer (:class:`LinkedBrowser` says which one).

Erase first gathers the person's identifiers (ids, e-mail addresses, phone numbers, push
endpoints) from every place, then stops the running journey executions (so no step acts on
a person whose data is gone), then deletes what is theirs and rewrites what only mentions
them (``[erased]``). A suppression is kept, keyed only by the salted hash of the address, so
the opt-out is still honoured. It reports how many items went from each place and is safe
to repeat (a second erase finds nothing). Limits (Step Functions keeps a closed execution's
input and history for 90 days; events in flight) are in docs/privacy.md.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Iterable

from boto3.dynamodb.types import TypeDeserializer

from polku import aws_clients, clock
from polku.data import enrollments
from polku.data import events as event_table
from polku.data import identities, profiles
from polku.data import journey_state
from polku.data import messages
from polku.campaigns import stored as stored_campaigns
from polku.data import rate_limits
from polku.messaging import suppression_list
from polku.reporting import table_export
from polku.settings import Settings, get_settings
from polku.tracking import event_store, identity, profile_builder, profile_store

ERASED = "[erased]"
# enrolment items that record a request as a whole: the person's id and text about them are
# rewritten, the record stays (the audit trail of who enrolled whom)
KEPT_KINDS = ("audit", "meta")
# consent-confirmation counters (polku.tracking.consent_confirmation) live a day; DynamoDB's TTL
# may keep an expired one a few days longer
RATE_LIMIT_DAYS = 7
CONTACT_FIELDS = ("email", "phone", "push_endpoint", "push_endpoint_arn")


class LinkedBrowser(Exception):
    """An anonymous id linked to a customer cannot be erased on its own."""

    def __init__(self, anonymous_id: str, customer_id: str):
        super().__init__(
            f"anonymous_id {anonymous_id} is linked to customer {customer_id}: its events are part of that "
            f"customer's history; erase the customer ({customer_id}) instead"
        )
        self.anonymous_id = anonymous_id
        self.customer_id = customer_id


def _model_dict(model) -> dict:
    out = {}
    for name in type(model).get_attributes():
        value = getattr(model, name)
        if value is None:
            continue
        out[name] = value.as_dict() if hasattr(value, "as_dict") else value
    return out


def _profile_keys(customer_id: str, anonymous_ids: list[str]) -> list[str]:
    return [customer_id] + [profile_builder.anonymous_key(a) for a in anonymous_ids]


# ------------------------------------------------------------------ which kind of id is it?

def is_anonymous(some_id: str) -> bool:
    """True when ``some_id`` is known as an anonymous id and not as a customer id.

    Known as anonymous: the identity table links it, its anonymous profile exists, or
    events are stored under it. Known as a customer: a profile or events under the
    customer id. An id known as both is a customer (say ``--anonymous-id`` for the browser).
    """
    anonymous = (identities.customer_of(some_id) is not None
                 or profile_store.load(profile_builder.anonymous_key(some_id)) is not None
                 or event_table.has_subject(f"a#{some_id}"))
    if not anonymous:
        return False
    return profile_store.load(some_id) is None and not event_table.has_subject(f"c#{some_id}")


# ------------------------------------------------------------------ the person: ids and contacts

def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from _strings(v)


def _contacts(value: Any, out: set[str]) -> None:
    """Every e-mail address, phone number and push endpoint under a contact field of ``value``
    (traits, consents' ``address``, the message log's address key ``"email:..."``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str) and v.strip() and (k in CONTACT_FIELDS or k == "address"):
                out.add(v.strip().split(":", 1)[1] if re.match(r"^(email|sms|push):", v) else v.strip())
            else:
                _contacts(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _contacts(v, out)


def _channel_of(contact: str) -> str:
    if "@" in contact:
        return "email"
    return "push" if contact.startswith("arn:") else "sms"


@dataclass(frozen=True)
class Person:
    """Whom an export or erase is about: their ids (the customer id, linked anonymous ids and the
    keys made of them) and contacts (addresses, numbers, endpoints) found in any place."""

    ids: frozenset[str]
    contacts: frozenset[str] = frozenset()

    @property
    def address_keys(self) -> list[str]:
        """The suppression list's address keys of the contacts (``"email:ann@example.com"``)."""
        return sorted({suppression_list.address_key(_channel_of(c), c) for c in self.contacts})

    def _is_theirs(self, value: str) -> bool:
        """Ids compare exactly (customer ids are case-sensitive), e-mail addresses in any case."""
        return value in self.ids or value in self.contacts or value.lower() in self._emails

    @cached_property
    def _emails(self) -> frozenset[str]:
        return frozenset(c.lower() for c in self.contacts if "@" in c)

    def owns(self, item: dict) -> bool:
        """An item about the person: a top-level attribute is one of their ids or contacts, alone or
        after a key prefix (``c#<id>``, ``cust#<id>``, ``anon:<id>``, ``email:<address>``)."""
        for value in item.values():
            if isinstance(value, str) and any(self._is_theirs(v) for v in
                                              (value, value.rsplit("#", 1)[-1], value.split(":", 1)[-1])):
                return True
        return False

    @cached_property
    def _pattern(self) -> re.Pattern | None:
        """Any id or contact as a whole word (not inside a longer id, address or number)."""
        exact = sorted({s for s in self.ids | self.contacts if s and "@" not in s}, key=len, reverse=True)
        emails = sorted(self._emails, key=len, reverse=True)
        parts = [re.escape(n) for n in exact] + ([f"(?i:{'|'.join(re.escape(e) for e in emails)})"] if emails else [])
        if not parts:
            return None
        return re.compile(r"(?<![\w@.+-])(?:" + "|".join(parts) + r")(?![\w@.+-])")

    def mentions(self, value: Any) -> bool:
        pattern = self._pattern
        return pattern is not None and any(pattern.search(s) for s in _strings(value))

    def scrub(self, value: Any) -> Any:
        """``value`` with every id and contact of the person replaced by ``[erased]``."""
        pattern = self._pattern
        if pattern is None:
            return value
        if isinstance(value, str):
            return pattern.sub(ERASED, value)
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        return value


# ------------------------------------------------------------------ the per-key tables

def _messages(keys: list[str]) -> list:
    return [m for k in keys for m in messages.of_customer(k, limit=None, newest_first=False)]


def _journey_state(keys: list[str]) -> list:
    return [m for k in keys for m in journey_state.items(k)]


# ------------------------------------------------------------------ executions

def _execution_arns(state: list) -> list[str]:
    return sorted({s.execution_arn for s in state if s.execution_arn})


def _executions(state: list, sfn) -> list[dict]:
    out = []
    for arn in _execution_arns(state):
        try:
            status = sfn.describe_execution(executionArn=arn)["status"]
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
        out.append({"execution_arn": arn, "status": status})
    return out


def _stop_executions(state: list, sfn) -> int:
    """Stop every execution the journey state names that is still running; how many were."""
    n = 0
    for run in _executions(state, sfn):
        if run["status"] != "RUNNING":
            continue
        try:
            sfn.stop_execution(executionArn=run["execution_arn"], error="erased",
                               cause="the person's data was erased (polku customers erase)")
            n += 1
        except sfn.exceptions.ExecutionDoesNotExist:
            continue
    return n


# ------------------------------------------------------------------ enrolments, rate limits, exports

def _enrollment_items(person: Person) -> tuple[list, list]:
    """(items about the person, records that mention them) of the enrolments table (one scan)."""
    owned, mentioning = [], []
    for item in enrollments.everything():
        d = _model_dict(item)
        if item.kind not in KEPT_KINDS and person.owns(d):
            owned.append(item)
        elif person.mentions(d):
            mentioning.append(item)
    return owned, mentioning


def _scrub_model(item, person: Person) -> None:
    """Rewrite the record with the person's ids and contacts as ``[erased]``. Its key stays (saving
    under a changed key would leave the old item): audit and request records are keyed by day, time
    and enrolment id, never by a person."""
    for name, attribute in type(item).get_attributes().items():
        value = getattr(item, name)
        if isinstance(value, (str, list)) and not (attribute.is_hash_key or attribute.is_range_key):
            setattr(item, name, person.scrub(value))
    enrollments.replace(item)


def _rate_limit_keys(person: Person) -> list[str]:
    """The consent-confirmation counters of the person's addresses (``confirm#<channel>#<address>#<day>``)."""
    today = clock.now().date()
    days = [(today - _dt.timedelta(days=d)).isoformat() for d in range(RATE_LIMIT_DAYS + 1)]
    contacts = {c for c in person.contacts} | {c.lower() for c in person.contacts if "@" in c}
    return [f"confirm#{_channel_of(c)}#{c}#{day}" for c in sorted(contacts) for day in days]


def _rate_limits(person: Person) -> list:
    return rate_limits.of_keys(_rate_limit_keys(person))


_plain = TypeDeserializer()


def _exported_item(item: dict) -> dict:
    """A DynamoDB-JSON item of an export file as plain values (numbers as Decimal)."""
    return {k: _plain.deserialize(v) for k, v in item.items()}


def _export_decision(person: Person) -> Callable[[dict], dict | None]:
    def decide(item: dict) -> dict | None:
        plain = _exported_item(item)
        if plain.get("kind") not in KEPT_KINDS and person.owns(plain):
            return None
        if person.mentions(item):
            return person.scrub(item)
        return item
    return decide


# ------------------------------------------------------------------ gather, export, erase

@dataclass
class _Places:
    """Where a use case reads and writes beyond the PynamoDB models: the client factory and the
    settings of the target (a deployed stack, the twin, or the function's own environment)."""

    aws: Callable[[str], Any]
    settings: Settings

    @classmethod
    def of(cls, aws, settings) -> "_Places":
        return cls(aws or aws_clients.client, settings or get_settings())

    @property
    def salt(self) -> bytes:
        return suppression_list.load_salt(self.settings.suppression_salt_secret_arn, self.aws)


def _gather(ids: set[str], profile_keys: list[str], subjects: list[str]) -> dict:
    """Everything stored under the person's keys, and the Person with every contact found there."""
    profiles = {}
    for key in profile_keys:
        p = profile_store.load(key)
        if p is not None:
            profiles[key] = p
    events = event_store.of_subjects(subjects)
    logged = _messages(profile_keys)
    state = _journey_state(profile_keys)
    contacts: set[str] = set()
    _contacts([profiles, events, [_model_dict(m) for m in logged]], contacts)
    person = Person(frozenset(ids), frozenset(contacts))
    return {"person": person, "profiles": profiles, "events": events, "messages": logged, "journey_state": state}


def _export_places(found: dict, places: _Places) -> dict:
    person: Person = found["person"]
    sfn = places.aws("stepfunctions")
    owned, mentioning = _enrollment_items(person)
    out = {
        "profiles": found["profiles"],
        "events": found["events"],
        "messages": [_model_dict(m) for m in found["messages"]],
        "journey_state": [_model_dict(m) for m in found["journey_state"]],
        "executions": _executions(found["journey_state"], sfn),
        "suppressions": suppression_list.export(person.address_keys, salt=places.salt),
        "enrollments": [_model_dict(m) for m in owned],
        "enrollment_mentions": [_model_dict(m) for m in mentioning],
        "rate_limits": [_model_dict(m) for m in _rate_limits(person)],
    }
    if places.settings.campaign_bucket:
        out["campaign_files"] = stored_campaigns.find(places.aws("s3"), places.settings.campaign_bucket,
                                                      person.mentions)
    if places.settings.analytics_bucket:
        out["analytics_exports"] = table_export.find_in_exports(
            places.aws("s3"), places.settings.analytics_bucket, lambda i: person.owns(_exported_item(i))
            or person.mentions(i))
    return out


def _erase_places(found: dict, places: _Places) -> tuple[dict, int]:
    """Stop executions, then delete or anonymise the person in every place; (removed, stopped)."""
    person: Person = found["person"]
    stopped = _stop_executions(found["journey_state"], places.aws("stepfunctions"))
    removed = {"events": event_table.delete(e["event_id"] for e in found["events"])}
    removed["profiles"] = sum(1 for k in found["profiles"] if profiles.delete(k))
    removed["messages"] = messages.delete_all(found["messages"])
    removed["journey_state"] = journey_state.delete_all(found["journey_state"])
    removed["suppressions_anonymised"] = suppression_list.anonymise(person.address_keys, salt=places.salt)
    owned, mentioning = _enrollment_items(person)
    removed["enrollments"] = enrollments.delete_all(owned)
    for item in mentioning:
        _scrub_model(item, person)
    removed["enrollments_anonymised"] = len(mentioning)
    removed["rate_limits"] = rate_limits.delete_all(_rate_limits(person))
    if places.settings.campaign_bucket:
        counts = stored_campaigns.rewrite(places.aws("s3"), places.settings.campaign_bucket, person.owns, person.scrub)
        removed["campaign_audience_members"] = counts["members_removed"]
        removed["campaign_files_rewritten"] = counts["files"]
    if places.settings.analytics_bucket:
        counts = table_export.rewrite_exports(places.aws("s3"), places.settings.analytics_bucket,
                                              _export_decision(person))
        removed["export_lines"] = counts["lines_removed"]
        removed["export_lines_anonymised"] = counts["lines_rewritten"]
    return removed, stopped


# ------------------------------------------------------------------ customers

def _customer(customer_id: str) -> tuple[list[str], dict]:
    anonymous_ids = identities.anonymous_ids_of(customer_id)
    keys = _profile_keys(customer_id, anonymous_ids)
    subjects = identity.subjects_of(customer_id, anonymous_ids)
    return anonymous_ids, _gather({customer_id, *anonymous_ids, *keys}, keys, subjects)


def export(customer_id: str, *, aws=None, settings: Settings | None = None) -> dict:
    """Everything about a customer. ``aws`` (a client factory) and ``settings`` name the target;
    by default this process's own (a Lambda function's)."""
    anonymous_ids, found = _customer(customer_id)
    return {"customer_id": customer_id, "exported_at": clock.now_iso(), "anonymous_ids": anonymous_ids,
            **_export_places(found, _Places.of(aws, settings))}


def erase(customer_id: str, *, aws=None, settings: Settings | None = None) -> dict:
    """Erase a customer and every browser linked to them (``aws``, ``settings``: as :func:`export`)."""
    _, found = _customer(customer_id)
    removed, stopped = _erase_places(found, _Places.of(aws, settings))
    removed["identity_links"] = len(identities.unlink_all(customer_id))
    return {"customer_id": customer_id, "erased_at": clock.now_iso(), "removed": removed,
            "stopped_executions": stopped}


# ------------------------------------------------------------------ anonymous visitors

def _visitor(anonymous_id: str) -> dict:
    key = profile_builder.anonymous_key(anonymous_id)
    return _gather({anonymous_id, key}, [key], [f"a#{anonymous_id}"])


def export_anonymous(anonymous_id: str, *, aws=None, settings: Settings | None = None) -> dict:
    """One browser's own data; ``customer_id`` names the customer it is linked to, if any."""
    return {"anonymous_id": anonymous_id, "customer_id": identities.customer_of(anonymous_id),
            "exported_at": clock.now_iso(), **_export_places(_visitor(anonymous_id), _Places.of(aws, settings))}


def erase_anonymous(anonymous_id: str, *, aws=None, settings: Settings | None = None) -> dict:
    """Erase a browser that never identified. Raises :class:`LinkedBrowser` if it is linked."""
    owner = identities.customer_of(anonymous_id)
    if owner is not None:
        raise LinkedBrowser(anonymous_id, owner)
    removed, stopped = _erase_places(_visitor(anonymous_id), _Places.of(aws, settings))
    return {"anonymous_id": anonymous_id, "erased_at": clock.now_iso(), "removed": removed,
            "stopped_executions": stopped}
