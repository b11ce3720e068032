"""The rate-based rules of the template's WAF web ACL, enforced by the twin's API Gateway.

On AWS, ``PublicApiWebAcl`` (an ``AWS::WAFv2::WebACL`` associated with the API's stage) blocks a
client IP or a site key that sent more than ``Limit`` requests to the public routes within
``EvaluationWindowSec``. The twin reads the same rules from template.yaml (limits resolved from
the stack's parameters) and answers as the rule's action says (429, its body and headers):

* ``RateBasedStatement`` with ``AggregateKeyType: IP``, or ``CUSTOM_KEYS`` with one
  ``QueryArgument`` (requests without that argument are not counted, as in WAF);
* a ``ScopeDownStatement`` of ``ByteMatchStatement`` s on the ``UriPath`` (``EXACTLY``,
  ``STARTS_WITH``, ``ENDS_WITH``, ``CONTAINS``), alone or in an ``OrStatement``; the path WAF
  sees starts with the stage (``/dev/v1/events``);
* ``Block`` with a ``CustomResponse`` (code, ``CustomResponseBodyKey``, headers), else 403.

Differences from WAF: the twin counts exactly over a sliding window on Polku's clock; WAF
evaluates every few seconds, so on AWS a burst may pass a little over the limit before it is
blocked. Requests are counted when they arrive, blocked ones included (as WAF counts them).
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import threading
from dataclasses import dataclass, field
from typing import Callable

from polku import clock

WEB_ACL = "AWS::WAFv2::WebACL"
_MATCH = {
    "EXACTLY": lambda path, s: path == s,
    "STARTS_WITH": lambda path, s: path.startswith(s),
    "ENDS_WITH": lambda path, s: path.endswith(s),
    "CONTAINS": lambda path, s: s in path,
}


class UnsupportedRule(ValueError):
    """A rule the twin cannot enforce as written (named, never silently allowed)."""


@dataclass
class RateRule:
    name: str
    limit: int
    window_seconds: int
    query_argument: str | None  # None: per client IP
    paths: tuple[tuple[str, str], ...]  # (positional constraint, search string); empty = every path
    status: int = 403
    body: str = ""
    content_type: str = "text/plain"
    headers: dict = field(default_factory=dict)
    _seen: dict = field(default_factory=lambda: collections.defaultdict(collections.deque), repr=False)

    def applies(self, path: str) -> bool:
        return not self.paths or any(_MATCH[how](path, s) for how, s in self.paths)

    def key(self, ip: str, query: dict[str, list[str]]) -> str | None:
        if self.query_argument is None:
            return ip
        values = query.get(self.query_argument)
        return values[-1] if values else None

    def count(self, key: str, now: dt.datetime) -> int:
        """Count one request now; the number in the window, this one included."""
        seen = self._seen[key]
        start = now - dt.timedelta(seconds=self.window_seconds)
        while seen and seen[0] <= start:
            seen.popleft()
        seen.append(now)
        return len(seen)


@dataclass
class Blocked:
    rule: str
    status: int
    body: bytes
    headers: dict


class RateRules:
    def __init__(self, rules: list[RateRule]):
        self.rules = rules
        self._lock = threading.Lock()

    @classmethod
    def from_template(cls, template, resolve: Callable) -> "RateRules":
        rules = []
        for lid, res in template.of_type(WEB_ACL).items():
            props = res.get("Properties", {})
            bodies = props.get("CustomResponseBodies") or {}
            for rule in sorted(props.get("Rules") or [], key=lambda r: int(r.get("Priority", 0))):
                statement = (rule.get("Statement") or {}).get("RateBasedStatement")
                if statement is None:
                    raise UnsupportedRule(f"{lid}.{rule.get('Name')}: only RateBasedStatement rules are enforced by the twin")
                rules.append(_rate_rule(lid, rule, statement, bodies, resolve))
        return cls(rules)

    def check(self, stage: str, path: str, ip: str, query: dict[str, list[str]]) -> Blocked | None:
        """Count this request against every rule that applies; the first rule over its limit blocks it."""
        waf_path = f"/{stage}{path}"
        now = clock.now()
        blocked = None
        with self._lock:
            for rule in self.rules:
                if not rule.applies(waf_path):
                    continue
                key = rule.key(ip, query)
                if key is None:
                    continue
                if rule.count(key, now) > rule.limit and blocked is None:
                    blocked = Blocked(rule.name, rule.status, rule.body.encode("utf-8"),
                                      {"Content-Type": rule.content_type, **rule.headers})
        return blocked

    def describe(self) -> list[dict]:
        return [{"rule": r.name, "limit": r.limit, "window_seconds": r.window_seconds,
                 "per": f"query argument {r.query_argument}" if r.query_argument else "client IP"} for r in self.rules]


def _paths(statement: dict | None, where: str) -> tuple[tuple[str, str], ...]:
    if not statement:
        return ()
    if "OrStatement" in statement:
        return tuple(p for s in statement["OrStatement"]["Statements"] for p in _paths(s, where))
    match = statement.get("ByteMatchStatement")
    if match is None or "UriPath" not in (match.get("FieldToMatch") or {}):
        raise UnsupportedRule(f"{where}: the twin enforces scope-downs of ByteMatchStatement on UriPath (or an OrStatement of them)")
    how = match.get("PositionalConstraint")
    if how not in _MATCH:
        raise UnsupportedRule(f"{where}: positional constraint {how!r} is not enforced by the twin")
    return ((how, str(match["SearchString"])),)


def _rate_rule(lid: str, rule: dict, statement: dict, bodies: dict, resolve: Callable) -> RateRule:
    where = f"{lid}.{rule.get('Name')}"
    aggregate = statement.get("AggregateKeyType", "IP")
    query_argument = None
    if aggregate == "CUSTOM_KEYS":
        keys = statement.get("CustomKeys") or []
        if len(keys) != 1 or "QueryArgument" not in keys[0]:
            raise UnsupportedRule(f"{where}: the twin enforces CUSTOM_KEYS of one QueryArgument")
        query_argument = str(keys[0]["QueryArgument"]["Name"])
    elif aggregate != "IP":
        raise UnsupportedRule(f"{where}: AggregateKeyType {aggregate} is not enforced by the twin")
    out = RateRule(name=str(rule.get("Name")), limit=int(resolve(statement["Limit"])),
                   window_seconds=int(resolve(statement.get("EvaluationWindowSec", 300))),
                   query_argument=query_argument, paths=_paths(statement.get("ScopeDownStatement"), where))
    custom = ((rule.get("Action") or {}).get("Block") or {}).get("CustomResponse")
    if custom:
        out.status = int(custom["ResponseCode"])
        body = bodies.get(custom.get("CustomResponseBodyKey")) or {}
        out.body = str(body.get("Content", ""))
        out.content_type = {"APPLICATION_JSON": "application/json", "TEXT_HTML": "text/html"}.get(
            body.get("ContentType"), "text/plain")
        out.headers = {h["Name"]: str(h["Value"]) for h in custom.get("ResponseHeaders") or []}
    if out.content_type == "application/json" and out.body:
        json.loads(out.body)  # a broken body would fail on AWS too
    return out
