"""Read a journey definition (ASL JSON) as a graph: states, their kinds and transitions (pure)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

SUBSTITUTION = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
TERMINAL_TYPES = ("Succeed", "Fail")


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    kind: str = "next"  # next | choice | default | catch


@dataclass
class Definition:
    comment: str
    start: str
    states: dict[str, dict]
    edges: list[Edge] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str) -> "Definition":
        doc = json.loads(text)
        if not isinstance(doc, dict) or not isinstance(doc.get("States"), dict):
            raise ValueError("not an ASL definition: needs StartAt and States")
        d = cls(comment=str(doc.get("Comment") or ""), start=str(doc.get("StartAt") or ""), states=doc["States"])
        d.edges = list(d._edges())
        return d

    def _edges(self):
        for name, s in self.states.items():
            if not isinstance(s, dict):
                continue
            if isinstance(s.get("Next"), str):
                yield Edge(name, s["Next"])
            if s.get("Type") == "Choice":
                for i, rule in enumerate(s.get("Choices") or []):
                    if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                        yield Edge(name, rule["Next"], describe_rule(rule), "choice")
                if isinstance(s.get("Default"), str):
                    yield Edge(name, s["Default"], "otherwise", "default")
            for c in s.get("Catch") or []:
                if isinstance(c, dict) and isinstance(c.get("Next"), str):
                    errors = c.get("ErrorEquals") or []
                    label = "timed out" if errors == ["States.Timeout"] else "on " + ", ".join(map(str, errors))
                    yield Edge(name, c["Next"], label, "catch")

    def successors(self, name: str) -> list[str]:
        return [e.target for e in self.edges if e.source == name]

    def is_terminal(self, name: str) -> bool:
        s = self.states.get(name) or {}
        return s.get("Type") in TERMINAL_TYPES or s.get("End") is True

    def reachable(self) -> list[str]:
        seen, order, stack = set(), [], [self.start]
        while stack:
            n = stack.pop(0)
            if n in seen or n not in self.states:
                continue
            seen.add(n)
            order.append(n)
            stack.extend(self.successors(n))
        return order


def describe_rule(rule: dict) -> str:
    """A Choice rule in a few words (for graphs): ``$.opened.happened = true``."""
    for op in ("And", "Or"):
        if op in rule:
            return f" {op.lower()} ".join(describe_rule(r) for r in rule[op])
    if "Not" in rule:
        return "not " + describe_rule(rule["Not"])
    var = str(rule.get("Variable", "?")).removeprefix("$.")
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        sym = {"Equals": "=", "GreaterThanEquals": ">=", "LessThanEquals": "<=", "GreaterThan": ">",
               "LessThan": "<"}
        for suffix, s in sym.items():
            if key.endswith(suffix):
                return f"{var} {s} {json.dumps(value)}"
        if key == "IsPresent":
            return f"{var} {'present' if value else 'absent'}"
        return f"{var} {key} {json.dumps(value)}"
    return var


def substitutions_in(text: str) -> set[str]:
    return set(SUBSTITUTION.findall(text))
