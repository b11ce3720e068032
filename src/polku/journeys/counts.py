"""How many customers passed each state of a journey, stand there now and left it (and why), and
each Send's open and click rates: the numbers ``polku journeys graph --counts`` and the report
draw on the journey's graph.

One counting model, two sources, so both draw the same way:

* a simulation's output (``polku journeys simulate``, JSON lines of happenings: entered, state,
  message, action, exited), with the timeline it ran for its opens and clicks;
* a live journey (the twin or a stack): every execution's history from Step Functions, read into
  the same happenings by the simulator's own reader (:func:`polku.journeys.simulate._history`), and
  the message log (sent/opened/clicked per journey step).

A *run* is one execution. ``passed`` counts the runs that entered a state at least once (a
deferred Send that loops back counts once); ``here`` the runs not ended whose latest state it is
(a Wait they sleep in, a task-token wait); ``left`` the ended runs whose latest state it was, by
why they ended: ``goal`` (a goal event), ``exit`` (an exit event, an exit step's reason, a stop),
``failed`` (the run failed or timed out), ``done`` (it reached its end). A Send's rates count its
sent messages (``not_sent``: those it skipped or failed to send): opened (an open or a click, as the report counts them) and clicked, over sent.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import asdict, dataclass, field
from typing import Iterable

from polku.journeys.definition import Definition
from polku.reporting.records import CLICK_EVENTS, OPEN_EVENTS, Message

LEFT_GROUPS = ("goal", "exit", "failed", "done")


def left_group(reason: str | None) -> str:
    """The group an exit reason is drawn under."""
    if reason == "goal":
        return "goal"
    if reason in ("failed", "timed_out"):
        return "failed"
    if reason in (None, "", "completed"):
        return "done"
    return "exit"


@dataclass
class StateCounts:
    passed: int = 0
    here: int = 0
    left: dict[str, int] = field(default_factory=dict)  # group (LEFT_GROUPS) -> runs
    sent: int | None = None  # Send states: messages sent from this state
    opened: int = 0
    clicked: int = 0
    not_sent: int = 0  # Send states: messages skipped or failed (consent, caps, no channel...); deferrals are retried

    @property
    def open_rate(self) -> float | None:
        return round(self.opened / self.sent, 4) if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return round(self.clicked / self.sent, 4) if self.sent else None


@dataclass
class JourneyCounts:
    journey: str
    source: str  # what the numbers were read from (for the picture's title)
    entered: int = 0  # runs (holdout customers not included)
    holdout: int = 0
    running: int = 0
    exits: dict[str, int] = field(default_factory=dict)  # reason -> runs
    states: dict[str, StateCounts] = field(default_factory=dict)
    unknown_states: dict[str, int] = field(default_factory=dict)  # states a run passed that the definition lacks

    def headline(self) -> str:
        """The picture's title: the journey, where the numbers come from, and its totals."""
        ended = ", ".join(f"{reason} {n}" for reason, n in sorted(self.exits.items()))
        return (f"{self.journey} ({self.source}): {self.entered} entered, {self.running} in the journey now"
                + (f", {self.holdout} holdout" if self.holdout else "") + (f"; ended: {ended}" if ended else ""))

    def to_dict(self) -> dict:
        out = asdict(self)
        for name, s in self.states.items():
            out["states"][name].update(open_rate=s.open_rate, click_rate=s.click_rate)
        return out


# ---------------------------------------------------------------- the model
def count(d: Definition, journey: str, happenings: Iterable[dict], messages: Iterable[Message] | None = None,
          source: str = "") -> JourneyCounts:
    """Counts of ``journey`` on definition ``d`` from its happenings (other journeys' are skipped).
    ``messages``: the sent messages with their opens and clicks (the message log); None takes them
    from the happenings' message lines (without opens and clicks)."""
    happenings = [h for h in happenings if h.get("journey") == journey]
    c = JourneyCounts(journey, source, states={n: StateCounts() for n in d.states})
    for name, s in d.states.items():
        if isinstance(s, dict) and s.get("Resource") == "${SendFunctionArn}":
            c.states[name].sent = 0
    for run in _runs(happenings):
        if run["holdout"]:
            c.holdout += 1
            continue
        c.entered += 1
        for state in dict.fromkeys(run["states"]):
            if state in c.states:
                c.states[state].passed += 1
            else:
                c.unknown_states[state] = c.unknown_states.get(state, 0) + 1
        last = run["states"][-1] if run["states"] else None
        if run["exit"] is None:
            c.running += 1
            if last in c.states:
                c.states[last].here += 1
            continue
        c.exits[run["exit"]] = c.exits.get(run["exit"], 0) + 1
        if last in c.states:
            group = left_group(run["exit"])
            c.states[last].left[group] = c.states[last].left.get(group, 0) + 1
    if messages is None:
        messages = messages_from_happenings(happenings)
    for m in messages:
        s = c.states.get(m.step)
        if m.journey != journey or s is None:
            continue
        if not m.sent:
            s.not_sent += m.status not in ("deferred", "sending")
            continue
        s.sent = (s.sent or 0) + 1
        s.opened += m.opened
        s.clicked += m.clicked
    return c


def _runs(happenings: list[dict]) -> list[dict]:
    """The runs in time order: a customer is in a journey at most once at a time, so a customer's
    state and exit lines belong to the run they entered last."""
    runs, current = [], {}
    for h in happenings:
        cid, kind = h.get("customer_id"), h.get("kind")
        if kind == "entered":
            current[cid] = {"holdout": h.get("variant") == "holdout", "states": [], "exit": None}
            runs.append(current[cid])
        elif cid in current and kind == "state":
            current[cid]["states"].append(h["state"])
        elif cid in current and kind == "exited":
            current.pop(cid)["exit"] = h.get("reason") or "completed"
    return runs


def messages_from_happenings(happenings: Iterable[dict]) -> list[Message]:
    """The message lines of a simulation as message-log records (step = the Send's state)."""
    return [Message(message_id=str(h.get("message_id") or f"{h.get('customer_id')}:{h.get('state')}:{h.get('at')}"),
                    customer_id=str(h.get("customer_id")), journey=h.get("journey"), step=str(h.get("state")),
                    variant=None, channel=str(h.get("channel") or "email"), status=str(h.get("status")),
                    created_at=str(h.get("at")), sent_at=h.get("at"))
            for h in happenings if h.get("kind") == "message"]


def attach_timeline_engagement(messages: list[Message], events: Iterable[dict]) -> None:
    """Opens and clicks of a planned timeline (tracking events with ``ts``): an event counts for the
    message its ``message_id`` names, else for the customer's latest message sent at or before it
    (a timeline is written before the simulation gives the messages their ids)."""
    by_id = {m.message_id: m for m in messages}
    sent: dict[str, list[tuple[str, Message]]] = {}  # customer -> (UTC time, message), in time order
    for m in sorted((m for m in messages if m.sent), key=lambda m: _utc(m.created_at)):
        sent.setdefault(m.customer_id, []).append((_utc(m.created_at), m))
    engaged = [(_utc(str(e.get("ts", ""))), e) for e in events if e.get("type") in OPEN_EVENTS | CLICK_EVENTS]
    for ts, e in sorted(engaged, key=lambda x: x[0]):
        m = by_id.get(str((e.get("properties") or {}).get("message_id")))
        if m is None:
            mine = sent.get(str(e.get("customer_id")), [])
            i = bisect.bisect_right([t for t, _ in mine], ts)
            m = mine[i - 1][1] if i else None
        if m is None:
            continue
        if e["type"] in OPEN_EVENTS:
            m.opened_at = m.opened_at or ts
        else:
            m.clicked_at = m.clicked_at or ts


def _utc(ts: str) -> str:
    from polku import clock

    try:
        return clock.to_iso(clock.parse_iso(ts))
    except ValueError:
        return ts


# ---------------------------------------------------------------- sources
def read_happenings(text: str, file: str = "output") -> list[dict]:
    """A simulation's JSON lines; an error names the line."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            h = json.loads(line)
        except json.JSONDecodeError:
            raise ValueError(f"{file} line {i}: not JSON (the output of `polku journeys simulate`?)") from None
        if not isinstance(h, dict) or not {"kind", "customer_id", "journey"} <= set(h):
            raise ValueError(f"{file} line {i}: not a simulation happening (needs kind, customer_id, journey)")
        out.append(h)
    return out


def from_simulation(d: Definition, journey: str, happenings: list[dict], timeline: list[dict] | None = None,
                    source: str = "simulation") -> JourneyCounts:
    """Counts from a simulation's happenings; ``timeline`` (its tracking events) gives the opens
    and clicks of the sent messages."""
    messages = messages_from_happenings(happenings)
    attach_timeline_engagement(messages, timeline or [])
    return count(d, journey, happenings, messages, source)


def execution_histories(sfn, state_machine_arn: str):
    """(name, arn, input, history events) of every execution of a state machine, through the API."""
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn):
        for ex in page["executions"]:
            events, kwargs = [], {"executionArn": ex["executionArn"], "maxResults": 1000}
            while True:
                resp = sfn.get_execution_history(**kwargs)
                events.extend(resp["events"])
                if not resp.get("nextToken"):
                    break
                kwargs["nextToken"] = resp["nextToken"]
            started = next((e for e in events if e["type"] == "ExecutionStarted"), {})
            data = json.loads((started.get("executionStartedEventDetails") or {}).get("input") or "{}")
            yield ex["name"], ex["executionArn"], data, events


def live_happenings(sfn, state_machine_arn: str, journey: str) -> list[dict]:
    """Every execution of the journey read into simulation happenings (the simulator's reader);
    a stopped run's reason comes from the journey state table (models bound to the target)."""
    from polku.journeys.simulate import _history

    rows: list[tuple] = []

    def add(at: str, customer: str, kind: str, **detail):
        rows.append((at, customer, len(rows), {"at": at, "customer_id": customer, "journey": journey,
                                                "kind": kind, **detail}))

    for name, _, data, events in execution_histories(sfn, state_machine_arn):
        _history(events, name, data, data.get("customer_id"), add, send_arn="")
    rows.sort(key=lambda r: (str(r[0]), str(r[1]), r[2]))
    return [r[3] for r in rows]


def holdout_happenings(runs, journey: str) -> list[dict]:
    """Holdout customers (no execution: the journey state's ``holdout`` runs) as happenings."""
    return [h for r in runs if r.journey == journey and r.status == "holdout"
            for h in ({"at": r.entered_at, "customer_id": r.customer_id, "journey": journey, "kind": "entered",
                       "variant": "holdout"},
                      {"at": r.entered_at, "customer_id": r.customer_id, "journey": journey, "kind": "exited",
                       "reason": "holdout"})]


def from_live(d: Definition, journey, sfn, prefix: str, messages: list[Message], runs=(),
              source: str = "live") -> JourneyCounts:
    """Counts of a running journey: its executions (Step Functions) and its messages (the message
    log, opens and clicks attached); ``runs`` (journey state records) add the holdout."""
    happenings = holdout_happenings(runs, journey.name) + live_happenings(
        sfn, journey.state_machine_arn(prefix), journey.name)
    return count(d, journey.name, happenings, [m for m in messages if m.journey == journey.name], source)

