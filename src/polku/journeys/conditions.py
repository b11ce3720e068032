"""Matchers for registry filters: event property filters and profile conditions (pure).

A filter is a mapping ``path -> matcher``. A path is a dotted path into the thing
being tested (``properties.total``, ``traits.locale``, ``counts.purchase``). A matcher
is either a plain value (equality) or a mapping of operators:
``eq ne gt gte lt lte in not_in exists``. Every operator given must hold.
"""

from __future__ import annotations

from typing import Any

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists")
_MISSING = object()


class ConditionError(ValueError):
    """A filter is malformed (names the path and the problem)."""


def lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return _MISSING
    return obj


def _num(value: Any):
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)  # DynamoDB numbers arrive as Decimal or str
    except (TypeError, ValueError):
        return value


def check_matcher(path: str, matcher: Any) -> None:
    """Raise ConditionError when ``matcher`` is not a valid matcher."""
    if isinstance(matcher, dict):
        if not matcher:
            raise ConditionError(f"{path}: empty matcher; give a value or one of {', '.join(OPERATORS)}")
        for op, arg in matcher.items():
            if op not in OPERATORS:
                raise ConditionError(f"{path}: unknown operator {op!r}; use one of {', '.join(OPERATORS)}")
            if op in ("in", "not_in") and not isinstance(arg, list):
                raise ConditionError(f"{path}: {op} needs a list")
            if op == "exists" and not isinstance(arg, bool):
                raise ConditionError(f"{path}: exists needs true or false")


def matches_value(value: Any, matcher: Any) -> bool:
    if not isinstance(matcher, dict):
        return value is not _MISSING and _num(value) == _num(matcher)
    for op, arg in matcher.items():
        if op == "exists":
            if (value is not _MISSING and value is not None) != arg:
                return False
            continue
        if value is _MISSING or value is None:
            return False
        v = _num(value)
        try:
            ok = {
                "eq": lambda: v == _num(arg),
                "ne": lambda: v != _num(arg),
                "gt": lambda: v > _num(arg),
                "gte": lambda: v >= _num(arg),
                "lt": lambda: v < _num(arg),
                "lte": lambda: v <= _num(arg),
                "in": lambda: v in [_num(a) for a in arg],
                "not_in": lambda: v not in [_num(a) for a in arg],
            }[op]()
        except TypeError:  # comparing a number with a string: no match
            ok = False
        if not ok:
            return False
    return True


def matches(obj: dict, conditions: dict | None) -> bool:
    """True when every ``path: matcher`` of ``conditions`` holds for ``obj``."""
    for path, matcher in (conditions or {}).items():
        if not matches_value(lookup(obj, path), matcher):
            return False
    return True
