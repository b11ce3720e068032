"""Validate one event on its own. Pure: no I/O, no clock (the receive time is passed in).

A failure is an :class:`Invalid` naming the field (a path such as
``properties.items[0].price``) and the reason in plain words.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

from polku.tracking import event_schema as schema

_ID = re.compile(schema.ID_PATTERN)
_EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ENVELOPE = frozenset(schema.ENVELOPE_FIELDS)
_SKEW = dt.timedelta(seconds=schema.MAX_CLOCK_SKEW_SECONDS)


@dataclass(frozen=True)
class Invalid(Exception):
    field: str
    reason: str

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return f"{self.field}: {self.reason}"


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True
    return isinstance(v, float) and math.isfinite(v)


def is_id(value) -> bool:
    # fullmatch: ``$`` in a pattern also matches before a trailing newline ("a\n" would pass).
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def check_id(value, field: str, *, allow_int: bool = False) -> None:
    if isinstance(value, str):
        if not _ID.fullmatch(value):
            if not value:
                raise Invalid(field, "must not be empty")
            if len(value) > schema.MAX_ID_LENGTH:
                raise Invalid(field, f"must be at most {schema.MAX_ID_LENGTH} characters")
            raise Invalid(field, "may contain only letters, digits and . _ : @ + -")
        return
    if allow_int and _is_int(value):
        if value < 0:
            raise Invalid(field, "must not be negative")
        return
    raise Invalid(field, "must be a string" + (" or a non-negative integer" if allow_int else ""))


def customer_id_problem(value) -> str | None:
    """Why ``value`` cannot be a customer id (None when it can): the id rules of
    :func:`check_id`, and no reserved prefix (``anon:<x>`` is browser x's profile key)."""
    try:
        check_id(value, "customer_id")
    except Invalid as err:
        return err.reason
    for prefix in schema.RESERVED_CUSTOMER_ID_PREFIXES:
        if value.startswith(prefix):
            return f"must not start with {prefix!r} (reserved for anonymous visitors' profiles)"
    return None


def check_customer_id(value, field: str = "customer_id") -> None:
    problem = customer_id_problem(value)
    if problem:
        raise Invalid(field, problem)


def check_ts_window(ts: dt.datetime, received_at: dt.datetime, field: str = "ts") -> None:
    """The client time of anything stored: not before 2000, at most a day ahead of the server."""
    if ts < _EARLIEST:
        raise Invalid(field, "is before 2000-01-01")
    if ts > received_at + _SKEW:
        raise Invalid(field, "is more than a day in the future")


# RFC 5646 (BCP 47) well-formed language tag: language[-script][-region](-variant)*(-extension)*[-x-private],
# or a private-use tag. Case-insensitive; hyphens only (``fi_FI`` is not a tag).
_BCP47 = re.compile(
    r"(?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4,8})"
    r"(?:-[a-z]{4})?"
    r"(?:-(?:[a-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*"
    r"(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*"
    r"(?:-x(?:-[a-z0-9]{1,8})+)?"
    r"|x(?:-[a-z0-9]{1,8})+",
    re.IGNORECASE | re.ASCII,
)


def check_locale(value, field: str) -> None:
    if not isinstance(value, str) or len(value) > 35 or not _BCP47.fullmatch(value):
        raise Invalid(field, "must be a BCP 47 language tag, e.g. fi-FI or en")


@lru_cache(maxsize=1)
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(value, field: str) -> None:
    if not isinstance(value, str) or value not in _time_zones():
        raise Invalid(field, "must be a time zone of the IANA database, e.g. Europe/Helsinki")


def parse_ts(value, field: str = "ts") -> dt.datetime:
    if not isinstance(value, str):
        raise Invalid(field, "must be an ISO-8601 date-time string")
    if len(value) > 40:
        raise Invalid(field, "is too long for an ISO-8601 date-time")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise Invalid(field, "must be an ISO-8601 date-time, e.g. 2026-01-05T08:00:00.000Z") from None
    if parsed.tzinfo is None:
        raise Invalid(field, "must carry a time zone (Z or an offset)")
    try:
        return parsed.astimezone(dt.timezone.utc)
    except (OverflowError, ValueError):
        raise Invalid(field, "is out of range") from None


def _check_string(value, field: str, max_length: int = schema.MAX_STRING_LENGTH) -> None:
    if not isinstance(value, str):
        raise Invalid(field, "must be a string")
    if not value.strip():
        raise Invalid(field, "must not be empty")
    if len(value) > max_length:
        raise Invalid(field, f"must be at most {max_length} characters")


def _check_number(value, field: str, minimum=None, maximum=None, integer=False) -> None:
    if integer:
        if not _is_int(value):
            raise Invalid(field, "must be an integer")
    elif not _is_number(value):
        raise Invalid(field, "must be a finite number")
    if minimum is not None and value < minimum:
        raise Invalid(field, f"must be at least {minimum:g}")
    if maximum is not None and value > maximum:
        raise Invalid(field, f"must be at most {maximum:g}")
    if abs(value) > 1e15:
        raise Invalid(field, "is too large")


def _check_items(value, field: str) -> None:
    if not isinstance(value, list):
        raise Invalid(field, "must be a list of items")
    if not value:
        raise Invalid(field, "must contain at least one item")
    if len(value) > schema.MAX_ITEMS:
        raise Invalid(field, f"must contain at most {schema.MAX_ITEMS} items")
    for i, item in enumerate(value):
        f = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise Invalid(f, "must be an object with product_id, quantity and price")
        for name in ("product_id", "quantity", "price"):
            if name not in item or item[name] is None:
                raise Invalid(f"{f}.{name}", "is required")
        check_id(item["product_id"], f"{f}.product_id", allow_int=True)
        _check_number(item["quantity"], f"{f}.quantity", minimum=1, integer=True)
        _check_number(item["price"], f"{f}.price", minimum=0)
        if "category" in item and item["category"] is not None:
            _check_string(item["category"], f"{f}.category")


def _check_prop(p: schema.Prop, value, field: str) -> None:
    kind = p.kind
    if kind == "id":
        check_id(value, field, allow_int=True)
    elif kind in ("string", "url"):
        _check_string(value, field)
    elif kind == "int":
        _check_number(value, field, minimum=p.minimum, integer=True)
    elif kind == "number":
        _check_number(value, field, minimum=p.minimum)
    elif kind == "latitude":
        _check_number(value, field, -90, 90)
    elif kind == "longitude":
        _check_number(value, field, -180, 180)
    elif kind == "channel":
        if value not in schema.CHANNELS:
            raise Invalid(field, f"must be one of {', '.join(schema.CHANNELS)}")
    elif kind == "items":
        _check_items(value, field)


def validate(event, received_at: dt.datetime) -> dt.datetime:
    """Check one event; return its client time (UTC). Raises :class:`Invalid`."""
    if not isinstance(event, dict):
        raise Invalid("event", "must be a JSON object")
    for key in event:
        if key not in _ENVELOPE:
            if not key or _SURROGATE.search(key):
                raise Invalid("event", "has an empty or invalid field name")
            raise Invalid(key[:64], "is not an event field (put custom data under properties)")
    if "event_id" not in event:
        raise Invalid("event_id", "is required")
    check_id(event["event_id"], "event_id")
    etype = event.get("type")
    if etype is None:
        raise Invalid("type", "is required")
    if etype == schema.IDENTIFY:
        raise Invalid("type", "identify events go to POST /v1/identify")
    if not isinstance(etype, str) or etype not in schema.EVENT_TYPES:
        raise Invalid("type", "must be one of " + ", ".join(schema.EVENT_TYPES))
    anon, cust = event.get("anonymous_id"), event.get("customer_id")
    if anon is None and cust is None:
        raise Invalid("anonymous_id", "anonymous_id or customer_id is required")
    if anon is not None:
        check_id(anon, "anonymous_id")
    if cust is not None:
        check_customer_id(cust, "customer_id")
    if "ts" not in event:
        raise Invalid("ts", "is required")
    ts = parse_ts(event["ts"])
    check_ts_window(ts, received_at)
    check_context(event.get("context"))
    props = event.get("properties")
    if props is None:
        props = {}
    elif not isinstance(props, dict):
        raise Invalid("properties", "must be an object")
    if len(props) > schema.MAX_PROPERTIES:
        raise Invalid("properties", f"must have at most {schema.MAX_PROPERTIES} keys")
    spec = schema.EVENT_TYPES[etype]
    for p in spec.props:
        value = props.get(p.name)
        if value is None:
            if p.required:
                raise Invalid(f"properties.{p.name}", f"is required for {etype}")
            continue
        _check_prop(p, value, f"properties.{p.name}")
    if spec.one_of and not any(all(props.get(n) is not None for n in group) for group in spec.one_of):
        alternatives = " or ".join("+".join(g) for g in spec.one_of)
        raise Invalid(f"properties.{spec.one_of[0][0]}", f"{etype} needs {alternatives}")
    if not _value_ok(props):
        check_value(props, "properties", 0)  # the slow walk names the field
    if len(props) > 8 or any(isinstance(v, (dict, list)) for v in props.values()):
        # Only deep or wide events can be big; small flat ones skip the encode.
        size = len(json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
        if size > schema.MAX_EVENT_BYTES:
            raise Invalid("properties", f"make the event larger than {schema.MAX_EVENT_BYTES // 1024} kB")
    return ts


def check_context(context, field: str = "context") -> None:
    """The context block of an event or an identify: known fields only, valid text within
    each field's limit; ``locale`` a BCP 47 tag, ``time_zone`` from the IANA database."""
    if context is None:
        return
    if not isinstance(context, dict):
        raise Invalid(field, "must be an object")
    for key, value in context.items():
        limit = schema.CONTEXT_FIELDS.get(key)
        if limit is None:
            raise Invalid(field, f"has a field that is not a context field: {str(key)[:64]!r}")
        if not isinstance(value, str) or len(value) > limit or _SURROGATE.search(value):
            raise Invalid(f"{field}.{key}", f"must be valid text of at most {limit} characters")
        if key == "locale":
            check_locale(value, f"{field}.{key}")
        elif key == "time_zone":
            check_time_zone(value, f"{field}.{key}")


_BIG_INT = 10**38


def _value_ok(value, depth: int = 0) -> bool:
    """Fast check of :func:`check_value`'s rules without building field names."""
    t = type(value)
    if t is str:
        return len(value) <= 8192 and (value.isascii() or not _SURROGATE.search(value))
    if t is bool or value is None:
        return True
    if t is int:
        return -_BIG_INT < value < _BIG_INT
    if t is float:
        return math.isfinite(value) and abs(value) < 1e100 and (value == 0 or abs(value) >= 1e-100)
    if depth > 6:
        return False
    if t is dict:
        for k, v in value.items():
            if type(k) is not str or not k or len(k) > 255 or not (k.isascii() or not _SURROGATE.search(k)):
                return False
            if not _value_ok(v, depth + 1):
                return False
        return True
    if t is list:
        for v in value:
            if not _value_ok(v, depth + 1):
                return False
        return True
    return False


def check_value(value, field: str, depth: int) -> None:
    """Any JSON value DynamoDB can store: finite numbers in its range, text without lone surrogates."""
    t = type(value)
    if t is str:
        if len(value) > 8192:
            raise Invalid(field, "must be at most 8192 characters")
        if not value.isascii() and _SURROGATE.search(value):
            raise Invalid(field, "is not valid Unicode text")
    elif t is bool or value is None:
        return
    elif t is int:
        if not -_BIG_INT < value < _BIG_INT:
            raise Invalid(field, "is too large a number")
    elif t is float:
        if not math.isfinite(value) or abs(value) >= 1e100 or (value != 0 and abs(value) < 1e-100):
            raise Invalid(field, "must be a finite number between 1e-100 and 1e100")
    elif depth > 6:
        raise Invalid(field, "is nested too deeply (at most 6 levels)")
    elif t is dict:
        for k, v in value.items():
            if type(k) is not str or not k:
                raise Invalid(field, "has an empty key")
            if len(k) > 255 or (not k.isascii() and _SURROGATE.search(k)):
                raise Invalid(field, "has a key that is too long or not valid Unicode")
            check_value(v, f"{field}.{k}", depth + 1)
    elif t is list:
        for i, v in enumerate(value):
            check_value(v, f"{field}[{i}]", depth + 1)
    else:
        raise Invalid(field, "must be a JSON value")
