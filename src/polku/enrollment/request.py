"""Parse and validate an enrolment request body (pure).

Body::

    {
      "role": "sales",                                   # optional if the caller has one role
      "customers": ["c-1", {"customer_id": "c-2", "overrides": {"personal_note": "Hi Ann"}}],
      "overrides": {"personal_note": "Great to meet you"} # optional, for all recipients
      "properties": {"event_name": "Spring fair", "event_date": "2026-04-18"}  # the run's trigger properties
    }

Up to 25,000 customers. Overrides may only name the journey's editable blocks;
anything else is rejected with the field named (``overrides.subject``,
``customers[3].overrides.footer``). A customer listed twice is enrolled once. ``properties`` reach
every run as its trigger's properties (what an event would carry, e.g. the event an invitation is
for); a journey's registry entry names the ones an enrolment must give (``enroll_requires``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from polku.enrollment.errors import InvalidEnrollment
from polku.tracking.validation import customer_id_problem

MAX_CUSTOMERS = 25_000
MAX_OVERRIDE_CHARS = 2_000
MAX_PROPERTIES = 20
MAX_PROPERTY_CHARS = 500
_ALLOWED_KEYS = {"role", "customers", "overrides", "properties"}


@dataclass(frozen=True)
class EnrollmentRequest:
    journey: str
    role: str | None
    customers: list[dict]  # [{"customer_id", "index", "overrides"?}] in request order, de-duplicated
    overrides: dict[str, str] = field(default_factory=dict)  # for all recipients
    duplicates_ignored: int = 0
    properties: dict = field(default_factory=dict)  # the runs' trigger properties

    @property
    def customer_ids(self) -> list[str]:
        return [c["customer_id"] for c in self.customers]

    @property
    def per_recipient_overrides(self) -> int:
        return sum(1 for c in self.customers if c.get("overrides"))


def _overrides(value, where: str, editable: frozenset[str], journey: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidEnrollment(where, "must be an object {block name: text}")
    out: dict[str, str] = {}
    for block, text in value.items():
        name = f"{where}.{block}"
        if block not in editable:
            allowed = ", ".join(sorted(editable)) or "none"
            raise InvalidEnrollment(name, f"not an editable block of journey {journey} (editable: {allowed})")
        if not isinstance(text, str):
            raise InvalidEnrollment(name, "must be text")
        if len(text) > MAX_OVERRIDE_CHARS:
            raise InvalidEnrollment(name, f"at most {MAX_OVERRIDE_CHARS} characters (got {len(text)})")
        out[block] = text
    return out


def _properties(value, required: tuple[str, ...]) -> dict:
    from polku.journeys.registry import PROPERTY

    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise InvalidEnrollment("properties", "must be an object {name: text, number or true/false}")
    if len(value) > MAX_PROPERTIES:
        raise InvalidEnrollment("properties", f"at most {MAX_PROPERTIES} (got {len(value)})")
    for key, v in value.items():
        where = f"properties.{key}"
        if not isinstance(key, str) or not PROPERTY.fullmatch(key):
            raise InvalidEnrollment(where[:60], "a property name: a-z, 0-9 and _, at most 40 characters")
        if isinstance(v, str):
            if len(v) > MAX_PROPERTY_CHARS:
                raise InvalidEnrollment(where, f"at most {MAX_PROPERTY_CHARS} characters (got {len(v)})")
        elif v is not None and not isinstance(v, (bool, int, float)):
            raise InvalidEnrollment(where, "must be text, a number or true/false")
    for key in required:
        if value.get(key) in (None, ""):
            raise InvalidEnrollment(f"properties.{key}", f"required by this journey (it needs: {', '.join(required)})")
    return dict(value)


def parse_request(journey: str, body, editable_blocks: frozenset[str],
                  required_properties: tuple[str, ...] = ()) -> EnrollmentRequest:
    if not isinstance(body, dict):
        raise InvalidEnrollment("body", "must be a JSON object with 'customers'")
    unknown = sorted(set(body) - _ALLOWED_KEYS)
    if unknown:
        raise InvalidEnrollment(unknown[0], f"unknown field (allowed: {sorted(_ALLOWED_KEYS)})")
    role = body.get("role")
    if role is not None and not isinstance(role, str):
        raise InvalidEnrollment("role", "must be text")
    raw = body.get("customers")
    if not isinstance(raw, list) or not raw:
        raise InvalidEnrollment("customers", "must be a non-empty list of customer ids")
    if len(raw) > MAX_CUSTOMERS:
        raise InvalidEnrollment("customers", f"at most {MAX_CUSTOMERS} per request (got {len(raw)})")
    overrides = _overrides(body.get("overrides"), "overrides", editable_blocks, journey)
    properties = _properties(body.get("properties"), required_properties)
    customers: list[dict] = []
    seen: set[str] = set()
    duplicates = 0
    for i, item in enumerate(raw):
        where = f"customers[{i}]"
        per: dict[str, str] = {}
        if isinstance(item, str):
            cid = item
        elif isinstance(item, dict):
            extra = sorted(set(item) - {"customer_id", "overrides"})
            if extra:
                raise InvalidEnrollment(f"{where}.{extra[0]}", "unknown field (allowed: customer_id, overrides)")
            cid = item.get("customer_id")
            if not isinstance(cid, str):
                raise InvalidEnrollment(f"{where}.customer_id", "required text")
            per = _overrides(item.get("overrides"), f"{where}.overrides", editable_blocks, journey)
        else:
            raise InvalidEnrollment(where, "must be a customer id or {customer_id, overrides}")
        problem = customer_id_problem(cid)  # the tracking API's rule: full match, no reserved prefix
        if problem:
            raise InvalidEnrollment(where, f"{cid[:40]!r} is not a customer id: {problem}")
        if cid in seen:
            duplicates += 1
            continue
        seen.add(cid)
        entry = {"customer_id": cid, "index": i}
        if per:
            entry["overrides"] = per
        customers.append(entry)
    return EnrollmentRequest(journey, role, customers, overrides, duplicates, properties)


def overrides_for(request_overrides: dict[str, str], customer: dict) -> dict[str, str]:
    """What one recipient's journey gets: the for-all overrides, then that customer's own on top."""
    return {**request_overrides, **(customer.get("overrides") or {})}
