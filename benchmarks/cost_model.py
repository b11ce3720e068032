"""Cost and scale on paper, from the code: writes docs/cost.md (issue #18, 5).

Everything in docs/cost.md comes from here:

* ``template.yaml``: each function's memory, which functions run per tracked event (the API route
  and the consumers of the events stream), which function each journey Task runs
  (DefinitionSubstitutions), the state machines' type, the tables' billing mode and indexes;
* the ASL files in ``statemachines/``: the states each journey enters on its paths (walked with
  :class:`polku.journeys.definition.Definition`) and, when it exists, the campaign fan-out
  (``statemachines/campaign.asl.json``: a Distributed Map; modelled from issue #18 until it exists);
* ``benchmarks/cost_calls.json``: the DynamoDB and other AWS calls each function makes, counted on
  the local twin by running one customer through the real handlers (``--measure`` refreshes it);
* :data:`PRICES`: eu-west-1 list prices, with the date they were taken, and :data:`ASSUMED`: what
  the code cannot tell (Lambda durations, item sizes, volumes of the 10M-customer scenario).

    python benchmarks/cost_model.py            # write docs/cost.md (fast, no twin)
    python benchmarks/cost_model.py --check    # exit 1 when docs/cost.md is not what the code gives now
    python benchmarks/cost_model.py --measure  # count the calls on the twin again, then write
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
TEMPLATE = REPO / "template.yaml"
STATEMACHINES = REPO / "statemachines"
DOC = REPO / "docs" / "cost.md"
CAMPAIGN_FILE = "campaign.asl.json"

# ------------------------------------------------------------------ prices
REGION = "eu-west-1"
PRICES_TAKEN = "2026-12-04"
# USD list prices in eu-west-1 (Europe, Ireland), pay as you go, free tiers left out. Recorded on
# PRICES_TAKEN from the public AWS pricing pages: list prices, to re-check before quoting (AWS
# changes them; DynamoDB on-demand was halved in November 2024). Taxes and discounts not included.
PRICES = {
    "sfn_transition": (0.025 / 1_000, "Step Functions Standard, per state transition"),
    "sfn_express_request": (1.00 / 1e6, "Step Functions Express, per execution (request)"),
    "sfn_express_gb_s": (0.00001667, "Step Functions Express, per GB-second (first tier; billed in 64 MB, 100 ms)"),
    "lambda_request": (0.20 / 1e6, "Lambda, per request"),
    "lambda_gb_s": (0.0000166667, "Lambda x86_64, per GB-second"),
    "ddb_wru": (0.7068 / 1e6, "DynamoDB on-demand, per write request unit"),
    "ddb_rru": (0.1413 / 1e6, "DynamoDB on-demand, per read request unit"),
    "ddb_wcu_hour": (0.000735, "DynamoDB provisioned, per WCU-hour"),
    "ddb_rcu_hour": (0.000147, "DynamoDB provisioned, per RCU-hour"),
    "ddb_gb_month": (0.283, "DynamoDB Standard storage, per GB-month"),
    "apigw_rest_request": (3.50 / 1e6, "API Gateway REST API, per request (first 333M a month)"),
    "waf_request": (0.60 / 1e6, "AWS WAF, per request inspected"),
    "ses_email": (0.10 / 1_000, "SES, per outbound e-mail"),
    "ses_dedicated_ip_month": (24.95, "SES standard dedicated IP, per IP-month"),
    "eventbridge_event": (1.00 / 1e6, "EventBridge custom event, per event"),
    "s3_put": (0.005 / 1_000, "S3 Standard PUT/LIST, per request"),
    "s3_get": (0.0004 / 1_000, "S3 Standard GET, per request"),
    "xray_trace": (5.00 / 1e6, "X-Ray, per trace recorded"),
}


def price(key: str) -> float:
    return PRICES[key][0]


# ------------------------------------------------------------------ what the code cannot tell
ASSUMED = {
    # Billed duration per invocation (ms) on AWS, not measured there: the twin's times are not
    # Lambda's. Send renders and calls SES; the others do a few DynamoDB calls.
    "duration_ms": {"TrackApiFunction": 30, "ProfileUpdaterFunction": 40, "JourneyTriggerFunction": 40,
                    "SendFunction": 250, "JourneyStepFunction": 40, "WaitForEventFunction": 20,
                    "OfferFunction": 60, "RecommendFunction": 60},
    "duration_ms_other": 50,
    # Item sizes (KB) for write units: a write costs 1 WRU per KB (rounded up) and again per
    # global secondary index it lands in; a profile carries history and interests.
    "item_kb": {"ProfilesTable": 3},
    "item_kb_other": 1,
    # reads: eventually consistent, at most 4 KB read per call = 0.5 RRU
    "rru_per_read": 0.5,
    # One API request per tracked event: the tracker batches events, so this is an upper bound.
    "api_requests_per_event": 1.0,
    # Campaign fan-out while statemachines/campaign.asl.json is not there (issue #18): items per
    # child execution (ItemBatcher) and the child's type.
    "campaign_batch": 100,
    "campaign_child_type": "EXPRESS",
    "campaign_child_memory_mb": 64,
    # 10M customers: a month of use.
    "customers": 10_000_000,
    "events_per_customer_month": 20,
    "journey_entries_per_customer_month": 1,
    "campaign_messages_per_customer_month": 4,
    "profile_kb": 3,
    "event_kb": 0.5,
    "event_retention_months": 3,
    "provisioned_target_utilisation": 0.7,
    "peak_to_average": 3,
    "steady_peak_to_average": 1.5,
    "ses_dedicated_ips": 4,
}


# ------------------------------------------------------------------ the template
@dataclass
class Stack:
    memory: dict[str, int]  # function logical id -> MB
    per_event: list[str]  # functions that run for every tracked event
    substitutions: dict[str, str]  # ${Name} -> function logical id (journey tasks)
    machines: dict[str, dict]  # definition file name -> {"resource", "type"}
    tables: dict[str, dict]  # table logical id -> {"gsis", "on_demand", "stream"}


def read_stack(template_path: Path = TEMPLATE) -> Stack:
    from polku.twin.template import Template

    t = Template.load(template_path)
    functions = t.of_type("AWS::Serverless::Function")
    memory = {fid: int(t.function_properties(fid).get("MemorySize", 128)) for fid in functions}
    tables = {}
    for tid, res in t.of_type("AWS::DynamoDB::Table").items():
        p = res.get("Properties", {})
        tables[tid] = {"gsis": len(p.get("GlobalSecondaryIndexes") or []),
                       "on_demand": p.get("BillingMode") == "PAY_PER_REQUEST",
                       "stream": bool(p.get("StreamSpecification"))}
    per_event = []
    for fid, res in functions.items():
        for ev in (res.get("Properties", {}).get("Events") or {}).values():
            props = ev.get("Properties") or {}
            if ev.get("Type") == "Api" and props.get("Path") == "/v1/events" and props.get("Method") == "POST":
                per_event.append(fid)
            stream = props.get("Stream")
            if ev.get("Type") == "DynamoDB" and isinstance(stream, dict) and \
                    stream.get("Fn::GetAtt", [None])[0] == "EventsTable":
                per_event.append(fid)
    substitutions, machines = {}, {}
    for mid, res in t.of_type("AWS::Serverless::StateMachine").items():
        p = res.get("Properties", {})
        for name, value in (p.get("DefinitionSubstitutions") or {}).items():
            target = value.get("Fn::GetAtt", [None])[0] if isinstance(value, dict) else None
            if target in functions:
                substitutions["${" + name + "}"] = target
        uri = p.get("DefinitionUri")
        if isinstance(uri, str):
            machines[Path(uri).name] = {"resource": mid, "type": str(p.get("Type", "STANDARD")).upper()}
    # Journeys published by `polku journeys publish` (not template resources): the stack output
    # JourneySubstitutions names what each ${Name} stands for ({"SendFunctionArn": "${SendFunction.Arn}"}).
    published = (t.outputs.get("JourneySubstitutions") or {}).get("Value")
    text = published.get("Fn::Sub") if isinstance(published, dict) else None
    for name, target in re.findall(r'"(\w+)"\s*:\s*"\$\{(\w+)\.Arn\}"', text if isinstance(text, str) else ""):
        if target in functions:
            substitutions.setdefault("${" + name + "}", target)
    return Stack(memory, sorted(set(per_event)), substitutions, machines, tables)


# ------------------------------------------------------------------ the journeys' paths
@dataclass
class Path_:
    states: list[str]

    @property
    def transitions(self) -> int:
        return len(self.states)  # every state entered is one transition (Succeed/Fail included)


def _timeout_only(errors) -> bool:
    return list(errors or []) == ["States.Timeout"]


def _moves(d, name: str) -> list[str]:
    """Where a run may go from ``name`` without an error: Next, Choice rules and Default, and the
    time-out of a wait for an event (a reaction that did not come)."""
    out = []
    for e in d.edges:
        if e.source != name or e.target not in d.states:
            continue
        if e.kind == "catch":
            s = d.states[name]
            if not any(c.get("Next") == e.target and _timeout_only(c.get("ErrorEquals")) for c in s.get("Catch") or []):
                continue
        out.append(e.target)
    return out


def shortest(d) -> Path_:
    """The fewest states from StartAt to an end (the goal at once, where there is one)."""
    from collections import deque

    queue, seen = deque([[d.start]]), {d.start}
    while queue:
        path = queue.popleft()
        if d.is_terminal(path[-1]):
            return Path_(path)
        for nxt in _moves(d, path[-1]):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(path + [nxt])
    raise ValueError(f"no path from {d.start} to an end state")


def no_reaction(d) -> Path_:
    """The run of a customer who does nothing: every Choice takes its Default, every wait for an
    event times out, every Task goes on to Next."""
    path, name = [], d.start
    while True:
        if name in path:
            raise ValueError(f"the no-reaction path loops at {name}")
        path.append(name)
        s = d.states[name]
        if d.is_terminal(name):
            return Path_(path)
        if s.get("Type") == "Choice":
            name = s.get("Default") or (s.get("Choices") or [{}])[0].get("Next")
            continue
        timeout = [c["Next"] for c in s.get("Catch") or [] if _timeout_only(c.get("ErrorEquals"))]
        name = timeout[0] if timeout and _is_event_wait(s) else s.get("Next")
        if name not in d.states:
            raise ValueError(f"state {path[-1]} leads nowhere on the no-reaction path")


def longest(d) -> Path_:
    """The most states on any path without a loop (loops are the quiet-hours deferrals, counted apart)."""
    best: list[str] = []

    def walk(path: list[str]) -> None:
        nonlocal best
        here = path[-1]
        if d.is_terminal(here) and len(path) > len(best):
            best = list(path)
        for nxt in _moves(d, here):
            if nxt not in path:
                path.append(nxt)
                walk(path)
                path.pop()

    walk([d.start])
    return Path_(best)


def smallest_loop(d) -> int:
    """States entered again by the shortest loop (a deferral: Choice, Wait, the Send again); 0 if none."""
    from collections import deque

    best = 0
    for start in d.states:
        queue, seen = deque([(start, 0)]), set()
        while queue:
            here, n = queue.popleft()
            for nxt in _moves(d, here):
                if nxt == start:
                    best = n + 1 if not best else min(best, n + 1)
                    queue.clear()
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append((nxt, n + 1))
    return best


def _is_event_wait(s: dict) -> bool:
    return s.get("Type") == "Task" and str(s.get("Resource", "")).endswith(".waitForTaskToken")


def retries_at_most(d, path: Path_) -> int:
    """Transitions the retries of the path's Tasks may add at most (each retry is billed as one)."""
    return sum(int(r.get("MaxAttempts", 3)) for name in path.states for r in d.states[name].get("Retry") or [])


def longest_wait_s(d) -> int:
    """The longest a run stays in one state: a Wait's Seconds, a Task's TimeoutSeconds (a Wait
    whose time comes from the input, SecondsPath/TimestampPath, is not counted: see dynamic_wait)."""
    out = 0
    for s in d.states.values():
        if s.get("Type") == "Wait" and "Seconds" in s:
            out = max(out, int(s["Seconds"]))
        if "TimeoutSeconds" in s:
            out = max(out, int(s["TimeoutSeconds"]))
    return out


def dynamic_wait(d) -> bool:
    """Does a state wait for a time the run's input sets (SecondsPath, TimestampPath, TimeoutSecondsPath)?"""
    return any((s.get("Type") == "Wait" and "Seconds" not in s) or "TimeoutSecondsPath" in s for s in d.states.values())


def _wait_text(d, seconds: int) -> str:
    if not dynamic_wait(d):
        return _human(seconds)
    return f"{_human(seconds)}, and waits set by the input" if seconds else "set by the input"


@dataclass
class Task:
    function: str
    extras: list[str] = field(default_factory=list)  # "recommend", "email", "event"


def tasks_on(d, path: Path_, stack: Stack) -> list[Task]:
    """The Lambda functions a path runs, in order, with what each brings along."""
    out = []
    for name in path.states:
        s = d.states[name]
        if s.get("Type") != "Task":
            continue
        params = s.get("Parameters") or {}
        res = str(s.get("Resource", ""))
        fn = stack.substitutions.get(res) or stack.substitutions.get(str(params.get("FunctionName", "")))
        if fn is None:
            continue
        extras = []
        if fn == "SendFunction":
            extras.append("email")
            if params.get("recommend") or params.get("recommendations"):
                extras.append("recommend")
        out.append(Task(fn, extras))
    return out


# ------------------------------------------------------------------ unit costs
@dataclass
class Line:
    what: str
    usd: float  # per unit (one event, one entry, one message)
    wru: float = 0.0  # DynamoDB write request units in it
    rru: float = 0.0


def _kb(table: str) -> int:
    return math.ceil(ASSUMED["item_kb"].get(table, ASSUMED["item_kb_other"]))


def call_units(action: str, resource: str, n: float, stack: Stack) -> tuple[float, float]:
    """(WRU, RRU) of ``n`` calls of ``action`` on ``resource`` (a table or table/index)."""
    table = resource.split("/", 1)[0]
    op = action.split(":", 1)[1]
    if op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
        gsis = stack.tables.get(table, {}).get("gsis", 0)
        return n * _kb(table) * (1 + gsis), 0.0
    if op in ("GetItem", "Query", "BatchGetItem", "Scan"):
        return 0.0, n * ASSUMED["rru_per_read"]
    return 0.0, 0.0


def lambda_usd(fn: str, stack: Stack, invocations: float = 1.0) -> float:
    ms = ASSUMED["duration_ms"].get(fn, ASSUMED["duration_ms_other"])
    gb_s = stack.memory.get(fn, 128) / 1024 * ms / 1000
    return invocations * (price("lambda_request") + gb_s * price("lambda_gb_s"))


def calls_usd(rows: list, stack: Stack, per: float = 1.0) -> tuple[float, float, float]:
    """(USD, WRU, RRU) of measured call rows [fn?, action, resource, n] divided by ``per`` (DynamoDB,
    EventBridge, S3; Lambda and SES are counted from the definitions)."""
    usd = wru = rru = 0.0
    for row in rows:
        action, resource, n = row[-3], row[-2], row[-1] / per
        if action.startswith("dynamodb:"):
            w, r = call_units(action, resource, n, stack)
            wru, rru = wru + w, rru + r
        elif action == "events:PutEvents":
            usd += n * price("eventbridge_event")
        elif action == "s3:GetObject":
            usd += n * price("s3_get")
        elif action == "s3:PutObject":
            usd += n * price("s3_put")
    usd += wru * price("ddb_wru") + rru * price("ddb_rru")
    return usd, wru, rru


def per_invocation(facts: dict) -> dict[str, list]:
    """Each function's calls per invocation over the measured journey runs ([action, resource, n])."""
    invocations: dict[str, int] = {}
    calls: dict[tuple[str, str, str], float] = {}
    for entry in facts["journey_entries"].values():
        for fn, n in entry["invocations"].items():
            invocations[fn] = invocations.get(fn, 0) + n
        for fn, action, res, n in entry["calls"]:
            calls[(fn, action, res)] = calls.get((fn, action, res), 0) + n
    out: dict[str, list] = {fn: [] for fn in invocations}
    for (fn, action, res), n in sorted(calls.items()):
        if fn in invocations:
            out[fn].append([action, res, n / invocations[fn]])
    return out


def trigger_calls(facts: dict) -> list:
    """The journey trigger's calls to enter one run (mean over the measured journeys)."""
    entries = facts["journey_entries"]
    rows: dict[tuple[str, str], float] = {}
    for entry in entries.values():
        for fn, action, res, n in entry["calls"]:
            if fn == "JourneyTriggerFunction":
                key = (action, "stateMachine" if res.startswith("stateMachine") else res)
                rows[key] = rows.get(key, 0) + n / len(entries)
    return [[a, r, n] for (a, r), n in sorted(rows.items())]


def event_lines(stack: Stack, facts: dict) -> list[Line]:
    ev = facts["tracked_event"]
    lines = [Line("API Gateway REST request", ASSUMED["api_requests_per_event"] * price("apigw_rest_request")),
             Line("WAF request", ASSUMED["api_requests_per_event"] * price("waf_request"))]
    for fn in stack.per_event:
        lines.append(Line(f"Lambda {fn} ({stack.memory[fn]} MB)", lambda_usd(fn, stack)))
    usd, wru, rru = calls_usd(ev["calls"], stack)
    lines.append(Line(f"DynamoDB: {wru:g} WRU, {rru:g} RRU (measured calls)", usd, wru, rru))
    return lines


def journey_lines(d, path: Path_, stack: Stack, facts: dict, machine_type: str = "STANDARD") -> list[Line]:
    calls = per_invocation(facts)
    usd, wru, rru = calls_usd(trigger_calls(facts), stack)
    lines = [Line(f"{path.transitions} state transitions (Standard)" if machine_type == "STANDARD"
                  else "Express execution", path.transitions * price("sfn_transition")
                  if machine_type == "STANDARD" else price("sfn_express_request")),
             Line(f"entry by the trigger: {wru:g} WRU, {rru:g} RRU", usd, wru, rru)]
    by_fn: dict[str, int] = {}
    extras: dict[str, int] = {}
    for t in tasks_on(d, path, stack):
        by_fn[t.function] = by_fn.get(t.function, 0) + 1
        for x in t.extras:
            extras[x] = extras.get(x, 0) + 1
    if extras.get("recommend"):
        by_fn["RecommendFunction"] = by_fn.get("RecommendFunction", 0) + extras["recommend"]
    for fn, n in sorted(by_fn.items()):
        usd, wru, rru = calls_usd(calls.get(fn, []), stack)
        lines.append(Line(f"{n} x {fn} ({stack.memory.get(fn, 128)} MB): Lambda + {n * wru:g} WRU, {n * rru:g} RRU",
                          n * (lambda_usd(fn, stack) + usd), n * wru, n * rru))
    if extras.get("email"):
        lines.append(Line(f"{extras['email']} e-mail(s) by SES", extras["email"] * price("ses_email")))
    return lines


# ------------------------------------------------------------------ campaigns
@dataclass
class Fanout:
    source: str  # the ASL file, or "modelled"
    batch: int  # items per child execution (ItemBatcher; 1 without one)
    child_type: str  # EXPRESS | STANDARD
    parent_states: int  # states the parent run enters besides its children (per campaign)
    child_states_per_batch: int  # states a child enters once
    child_states_per_item: int  # states a child enters per item (an inline Map over the batch)
    send_per_batch: int  # Send invocations per child, each with the whole batch
    send_per_item: int  # Send invocations per item
    child_waits: bool = False  # a Wait state in the child (Express allows 5 minutes in all)

    def sends_per_message(self) -> float:
        return self.send_per_batch / self.batch + self.send_per_item


def _distributed_maps(states: dict) -> list[tuple[str, dict]]:
    """Every Map state in Distributed mode, nested ones included, in definition order."""
    out = []
    for name, s in states.items():
        proc = s.get("ItemProcessor") or s.get("Iterator") or {}
        if s.get("Type") == "Map" and (proc.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
            out.append((name, s))
        out.extend(_distributed_maps(proc.get("States") or {}) if proc else [])
    return out


def _task_function(s: dict, stack: Stack) -> str:
    params = s.get("Parameters") or s.get("Arguments") or {}
    res = str(s.get("Resource", ""))
    name = str(params.get("FunctionName", ""))
    return stack.substitutions.get(res) or stack.substitutions.get(name) or name or res


def _walk(states: dict, start: str):
    from polku.journeys.definition import Definition

    d = Definition.parse(json.dumps({"StartAt": start, "States": states}))
    return [(n, states[n]) for n in no_reaction(d).states]


def _count_child(states: dict, start: str, stack: Stack) -> tuple[int, int, int, int]:
    """(states once, states per item, Send once, Send per item) of a child workflow on its
    no-reaction path: an inline Map inside it runs once per item of the batch."""
    once = per_item = send_once = send_item = 0
    for _name, s in _walk(states, start):
        once += 1
        if s.get("Type") == "Map":
            proc = s.get("ItemProcessor") or s.get("Iterator") or {}
            b, i, sb, si = _count_child(proc.get("States") or {}, proc.get("StartAt", ""), stack)
            per_item += b + i
            send_item += sb + si
        elif s.get("Type") == "Task" and "Send" in _task_function(s, stack):
            send_once += 1
    return once, per_item, send_once, send_item


def campaign_fanout(folder: Path, stack: Stack) -> Fanout:
    """The campaign's Distributed Map, read from statemachines/campaign.asl.json when it exists;
    until then modelled from issue #18 (S3 ItemReader, ItemBatcher, an Express child per batch
    whose inline Map runs Send for each recipient)."""
    path = campaign_path(folder)
    if not path.is_file():
        return Fanout(f"modelled from issue #18 ({CAMPAIGN_FILE} is not there yet)", ASSUMED["campaign_batch"],
                      ASSUMED["campaign_child_type"], parent_states=3, child_states_per_batch=1,
                      child_states_per_item=1, send_per_batch=0, send_per_item=1)
    doc = json.loads(path.read_text())
    maps = _distributed_maps(doc.get("States") or {})
    if not maps:
        raise ValueError(f"{path.name}: no Map state with ProcessorConfig Mode DISTRIBUTED")

    def sends(m: dict) -> int:
        proc = m.get("ItemProcessor") or {}
        return sum(_count_child(proc.get("States") or {}, proc.get("StartAt", ""), stack)[2:])

    name, m = next(((n, m) for n, m in maps if sends(m)), maps[0])  # the map whose children send
    proc = m.get("ItemProcessor") or {}
    batcher = m.get("ItemBatcher") or {}
    batch = int(batcher.get("MaxItemsPerBatch") or (ASSUMED["campaign_batch"] if batcher else 1))
    child_type = str((proc.get("ProcessorConfig") or {}).get("ExecutionType", "STANDARD")).upper()
    once, per_item, send_once, send_item = _count_child(proc.get("States") or {}, proc.get("StartAt", ""), stack)
    if not batcher:  # one item per child: what the child does once, it does per item
        once, per_item, send_once, send_item = 0, once + per_item, 0, send_once + send_item
    waits = '"Type": "Wait"' in json.dumps(proc)
    return Fanout(str(path.relative_to(folder.parent)), batch, child_type, _parent_states(doc, name), once, per_item,
                  send_once, send_item, waits)


def campaign_path(folder: Path) -> Path:
    """Where the campaign's definition is: statemachines/campaigns/ or statemachines/ (the first that exists)."""
    candidates = [folder / "campaigns" / CAMPAIGN_FILE, folder / CAMPAIGN_FILE]
    return next((p for p in candidates if p.is_file()), candidates[0])


def _parent_states(doc: dict, fanout: str) -> int:
    """States the parent run enters for one wave: the shortest way to the Distributed Map, and on to an end."""
    from polku.journeys.definition import Definition

    to_map = Definition.parse(json.dumps({**doc, "States": {**doc["States"], fanout: {"Type": "Succeed"}}}))
    from_map = Definition.parse(json.dumps({**doc, "StartAt": fanout}))
    return shortest(to_map).transitions + shortest(from_map).transitions - 1


_FACTS: list = []  # the facts render() works from (for the 10M section's comparisons)
CAMPAIGN_SIZE = 1_000_000  # recipients of the campaign the parent run's states are shared by


def campaign_lines(fan: Fanout, stack: Stack, facts: dict) -> list[Line]:
    """Per message of a campaign."""
    calls = per_invocation(facts)
    b = fan.batch
    lines = [Line(f"Distributed Map: a child started per {b} message(s) (one state transition)", price("sfn_transition") / b)]
    child_states = fan.child_states_per_batch / b + fan.child_states_per_item
    send_s = ASSUMED["duration_ms"]["SendFunction"] / 1000
    if fan.child_type == "EXPRESS":
        seconds = b * send_s  # the child waits for its sends
        gb_s = math.ceil(ASSUMED["campaign_child_memory_mb"] / 64) * 64 / 1024 * math.ceil(seconds * 10) / 10
        lines.append(Line(f"Express child: 1 request, {seconds:g} s x {ASSUMED['campaign_child_memory_mb']} MB "
                          f"per {b} message(s)", (price("sfn_express_request") + gb_s * price("sfn_express_gb_s")) / b))
    else:
        lines.append(Line(f"Standard child: {child_states:g} state transitions per message",
                          child_states * price("sfn_transition")))
    batch = facts.get("campaign_batch")
    if batch:  # measured: Send with a campaign batch, per recipient
        rows = [r for r in batch["calls"] if r[0] == "SendFunction"]
        usd, wru, rru = calls_usd(rows, stack, per=batch["recipients"])
    else:  # the journeys' Send per message
        usd, wru, rru = calls_usd(calls.get("SendFunction", []), stack)
    inv = fan.sends_per_message()
    gb_s = stack.memory["SendFunction"] / 1024 * send_s
    lines.append(Line(f"Send ({stack.memory['SendFunction']} MB, {inv:g} invocation(s) per message): Lambda + "
                      f"{wru:g} WRU, {rru:g} RRU", inv * price("lambda_request") + gb_s * price("lambda_gb_s") + usd,
                      wru, rru))
    lines.append(Line("1 e-mail by SES", price("ses_email")))
    lines.append(Line("audience and wave files: S3 PUT and the ItemReader's GET, per 10,000 messages",
                      (price("s3_put") + price("s3_get")) / 10_000))
    lines.append(Line(f"the parent run: {fan.parent_states} state(s), shared by a campaign of {CAMPAIGN_SIZE:,}",
                      fan.parent_states * price("sfn_transition") / CAMPAIGN_SIZE))
    return lines


# ------------------------------------------------------------------ the document
def _usd(x: float) -> str:
    if x >= 100:
        return f"${x:,.0f}"
    if x >= 1:
        return f"${x:,.2f}"
    return f"${x:.4f}" if x >= 0.0001 else f"${x:.2g}"


def _table(lines: list[Line], per: float = 1e6) -> list[str]:
    out = ["| Item | per 1M |", "| --- | ---: |"]
    out += [f"| {ln.what} | {_usd(ln.usd * per)} |" for ln in lines]
    out.append(f"| **Total** | **{_usd(sum(ln.usd for ln in lines) * per)}** |")
    return out


@dataclass
class JourneyCost:
    name: str
    definition: object
    states: int
    short: Path_
    typical: Path_
    long: Path_
    loop: int
    retries: int
    wait_s: int
    machine_type: str
    lines: list[Line]

    @property
    def usd(self) -> float:
        return sum(ln.usd for ln in self.lines)


def journeys(stack: Stack, facts: dict, folder: Path = STATEMACHINES) -> list[JourneyCost]:
    from polku.journeys import registry
    from polku.journeys.definition import Definition

    reg = registry.load(folder / "registry.yaml")
    out = []
    for j in sorted(reg.journeys.values(), key=lambda j: j.name):
        d = Definition.parse((folder / j.file).read_text())
        typical = no_reaction(d)
        mtype = stack.machines.get(j.file, {}).get("type", "STANDARD")
        out.append(JourneyCost(j.name, d, len(d.states), shortest(d), typical, longest(d), smallest_loop(d),
                               retries_at_most(d, typical), longest_wait_s(d), mtype,
                               journey_lines(d, typical, stack, facts, mtype)))
    return out


def _human(sec: int) -> str:
    from polku.journeys.graph import human_seconds

    return human_seconds(sec)


def render(template_path: Path = TEMPLATE, folder: Path = STATEMACHINES, facts: dict | None = None) -> str:
    import cost_calls

    facts = facts if facts is not None else cost_calls.load()
    _FACTS[:] = [facts]
    stack = read_stack(template_path)
    ev = event_lines(stack, facts)
    js = journeys(stack, facts, folder)
    fan = campaign_fanout(folder, stack)
    camp = campaign_lines(fan, stack, facts)
    ev_usd = sum(ln.usd for ln in ev)
    camp_usd = sum(ln.usd for ln in camp)
    mean_entry = sum(j.usd for j in js) / len(js)

    o: list[str] = []
    w = o.append
    w("# Cost and scale on paper")
    w("")
    w("Written by `benchmarks/cost_model.py` from the code: `template.yaml` (memory, which functions run, "
      "table indexes), the journeys' ASL in `statemachines/` (the states each path enters), the AWS calls "
      "each function makes counted on the local twin (`benchmarks/cost_calls.json`, `--measure`), and list "
      "prices. Do not edit by hand: `python benchmarks/cost_model.py` rewrites it and "
      "`tests/unit/test_cost_model.py` fails when it is stale.")
    w("")
    w(f"**Prices are eu-west-1 (Ireland) list prices recorded on {PRICES_TAKEN}, in USD, without free tiers, "
      "taxes or discounts: re-check them before quoting.** Lambda durations, item sizes and the 10M-customer "
      "volumes are assumptions (listed at the end), not measurements on AWS.")
    w("")
    w("## Summary")
    w("")
    w("| Per 1M | Cost | Main part |")
    w("| --- | ---: | --- |")
    top = lambda lines: max(lines, key=lambda ln: ln.usd).what  # noqa: E731
    w(f"| tracked events | {_usd(ev_usd * 1e6)} | {top(ev)} |")
    sfn_share = sum(j.typical.transitions * price("sfn_transition") for j in js) / len(js) / mean_entry
    w(f"| journey entries (mean of {len(js)} journeys, no-reaction path) | {_usd(mean_entry * 1e6)} | "
      f"Step Functions state transitions ({sfn_share:.0%}) |")
    w(f"| campaign messages | {_usd(camp_usd * 1e6)} | {top(camp)} |")
    w("")
    w("## Per 1M tracked events")
    w("")
    w(f"Functions per event (template.yaml: the `POST /v1/events` route and the consumers of the events "
      f"stream): {', '.join(stack.per_event)}. DynamoDB calls of one `page_view` of a known customer, counted "
      "on the twin (the stream consumers get one record per invocation there; on AWS they get batches of up "
      "to 100, so Lambda requests are an upper bound):")
    w("")
    w("| Function | Call | Resource | Calls |")
    w("| --- | --- | --- | ---: |")
    for fn, action, res, n in facts["tracked_event"]["calls"]:
        w(f"| {fn} | {action} | {res} | {n:g} |")
    w("")
    o += _table(ev)
    w("")
    w("## Per 1M journey entries")
    w("")
    w("Step Functions Standard bills one transition per state entered (Task, Wait, Choice, Succeed/Fail) "
      "and one per retry. Per journey, from its ASL: the **shortest** path to an end (the goal at once where "
      "the journey has one), the **no-reaction** path (every Choice takes its Default, every wait for an event "
      "times out: the typical run, since most customers do not react) and the **longest** path without a loop. "
      "A goal event that stops a run early (registry `goal:`) bills only the states entered until then. "
      "Each quiet-hours deferral of a message enters the loop once more (Choice, Wait, Send); the retries "
      "column is what every retry of every Task on the no-reaction path would add at most.")
    w("")
    w("Type: the state machine's type in template.yaml, else Standard (`polku journeys publish` creates "
      "Standard state machines).")
    w("")
    w("| Journey | Type | States | Shortest | No reaction | Longest | Per deferral | Retries at most | Longest wait | Per 1M entries |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    for j in js:
        w(f"| {j.name} | {j.machine_type.title()} | {j.states} | {j.short.transitions} | {j.typical.transitions} | "
          f"{j.long.transitions} | +{j.loop} | +{j.retries} | {_wait_text(j.definition, j.wait_s)} | {_usd(j.usd * 1e6)} |")
    w("")
    w("What one entry costs on its no-reaction path, per journey (per 1M entries):")
    w("")
    for j in js:
        w(f"**{j.name}**: {' -> '.join(j.typical.states)}")
        w("")
        o += _table(j.lines)
        w("")
    measured = ", ".join(sorted(facts["journey_entries"]))
    w("The trigger's part (run item read and conditional put, StartExecution) and each task function's "
      f"AWS calls per invocation are counted on the twin, over the no-reaction runs of {measured} "
      "(`benchmarks/cost_calls.json`); SES is counted per Send on the path.")
    w("")
    missing = sorted({t.function for j in js for t in tasks_on(j.definition, j.typical, stack)} - set(per_invocation(facts)))
    if missing:
        w(f"Not measured (Lambda only, no DynamoDB counted): {', '.join(missing)}.")
        w("")
    w("## Per 1M campaign messages")
    w("")
    how = (f"runs Send once for the batch ({fan.send_per_batch} invocation per child)" if fan.send_per_batch
           else "runs Send once per recipient")
    w(f"The fan-out: {fan.source}. A Distributed Map reads the recipients from S3 (ItemReader), hands "
      f"{fan.batch} of them to each child execution (ItemBatcher), the child ({fan.child_type.title()}) "
      f"{how}. Billed: one transition per child execution the Distributed Map starts (the Step Functions "
      "guide, Transitions), the child by its type, Lambda, DynamoDB and SES per message. Each recipient goes "
      "through the journeys' send path (consent, suppression, caps, the message log's claim); "
      + ("Send's calls per recipient are counted on the twin with one campaign batch "
         f"of {facts['campaign_batch']['recipients']}." if facts.get("campaign_batch")
         else "Send's calls per message are the ones counted for the journeys."))
    w("")
    o += _table(camp)
    w("")
    offer_rows = per_invocation(facts).get("OfferFunction", [])
    if offer_rows:
        usd, _, _ = calls_usd(offer_rows, stack)
        w(f"A campaign with an offer (`offer:` in its file) adds a grant before and a revoke after each message: "
          f"priced like the journeys' offer calls, about {_usd(2 * (usd + lambda_usd('OfferFunction', stack)) * 1e6)} "
          "per 1M messages (not in the total above).")
        w("")
    profiles_kb = ASSUMED["customers"] * ASSUMED["profile_kb"]
    scan_rru = math.ceil(profiles_kb / 4) * ASSUMED["rru_per_read"]
    w("Per campaign, not per message: the audience is a parallel scan of the profiles table, which reads "
      f"every profile whatever the segment: at {ASSUMED['customers'] / 1e6:g}M profiles of "
      f"{ASSUMED['profile_kb']} KB that is {scan_rru / 1e6:,.2f}M RRU, {_usd(scan_rru * price('ddb_rru'))} a campaign. "
      "How fast the twin sends a campaign, against the raw Send: docs/benchmarks.md, Campaign throughput.")
    w("")
    o += scale_section(stack, js, ev, camp, fan)
    w("")
    w("## Prices and assumptions")
    w("")
    w(f"List prices, {REGION}, recorded {PRICES_TAKEN} (re-check):")
    w("")
    w("| Price | USD |")
    w("| --- | ---: |")
    for key, (value, what) in PRICES.items():
        w(f"| {what} | {value:.10g} |")
    w("")
    w("Assumed, not measured on AWS:")
    a = ASSUMED
    w("")
    dur = ", ".join(f"{fn} {ms} ms" for fn, ms in ASSUMED["duration_ms"].items())
    w(f"- Lambda billed duration per invocation: {dur}; other functions {ASSUMED['duration_ms_other']} ms. "
      "Memory sizes are the template's.")
    w(f"- Item sizes: profiles {ASSUMED['item_kb']['ProfilesTable']} KB, other items "
      f"{ASSUMED['item_kb_other']} KB; a write costs 1 WRU per KB and again per global secondary index of "
      "its table (template.yaml); a read 0.5 RRU (eventually consistent, up to 4 KB).")
    w(f"- 10M customers: {a['events_per_customer_month']} events, {a['journey_entries_per_customer_month']} journey "
      f"entry and {a['campaign_messages_per_customer_month']} campaign messages per customer a month; profiles "
      f"{a['profile_kb']} KB, events {a['event_kb']} KB kept {a['event_retention_months']} months; provisioned "
      f"capacity at {a['provisioned_target_utilisation']:.0%} target utilisation, peaks {a['peak_to_average']}x "
      f"(steady tables {a['steady_peak_to_average']}x) the average; {a['ses_dedicated_ips']} dedicated IPs.")
    w(f"- One API request per tracked event ({ASSUMED['api_requests_per_event']:g}; the tracker batches, so fewer).")
    w("- Not included: CloudWatch Logs and metrics, X-Ray traces (`Tracing: Active`: sampled, about 5 % of "
      f"requests x {_usd(price('xray_trace') * 1e6)} per 1M traces), point-in-time recovery, data transfer, "
      "KMS, the daily export and training jobs, SMS (priced per country), the free tiers.")
    return "\n".join(o).rstrip() + "\n"


def scale_section(stack: Stack, js: list[JourneyCost], ev: list[Line], camp: list[Line], fan: Fanout) -> list[str]:
    a = ASSUMED
    customers = a["customers"]
    events = customers * a["events_per_customer_month"]
    entries = customers * a["journey_entries_per_customer_month"]
    messages = customers * a["campaign_messages_per_customer_month"]
    mean_entry = sum(j.usd for j in js) / len(js)
    ev_usd, camp_usd = sum(ln.usd for ln in ev), sum(ln.usd for ln in camp)
    o = ["## What changes at 10M customers", ""]
    w = o.append
    w(f"A month of {customers / 1e6:g}M customers, assumed: {a['events_per_customer_month']} tracked events, "
      f"{a['journey_entries_per_customer_month']} journey entry and {a['campaign_messages_per_customer_month']} "
      "campaign messages per customer.")
    w("")
    w("| Part | Volume a month | Cost a month |")
    w("| --- | ---: | ---: |")
    w(f"| Tracked events | {events / 1e6:,.0f}M | {_usd(events * ev_usd)} |")
    w(f"| Journey entries | {entries / 1e6:,.0f}M | {_usd(entries * mean_entry)} |")
    w(f"| Campaign messages | {messages / 1e6:,.0f}M | {_usd(messages * camp_usd)} |")
    storage_gb = (customers * a["profile_kb"] + events * a["event_retention_months"] * a["event_kb"]) / 1024 / 1024
    w(f"| DynamoDB storage (profiles, {a['event_retention_months']} months of events) | {storage_gb:,.0f} GB | "
      f"{_usd(storage_gb * price('ddb_gb_month'))} |")
    w("")
    w("**Express vs Standard.** Express workflows run at most 5 minutes and cannot wait for a task token "
      "(`.waitForTaskToken`), so a journey that waits hours or days for time or for the customer has to be "
      "Standard:")
    w("")
    w("| Journey | Longest wait | Waits for an event | Express possible |")
    w("| --- | --- | --- | --- |")
    for j in js:
        waits = any(_is_event_wait(s) for s in j.definition.states.values())
        ok = j.wait_s <= 300 and not waits and not dynamic_wait(j.definition)
        w(f"| {j.name} | {_wait_text(j.definition, j.wait_s)} | {'yes' if waits else 'no'} | {'yes' if ok else 'no'} |")
    w("")
    other = replace(fan, child_type="STANDARD" if fan.child_type == "EXPRESS" else "EXPRESS")
    now_usd, other_usd = (sum(ln.usd for ln in campaign_lines(f, stack, _FACTS[0])[:2]) * 1e6 for f in (fan, other))
    child = (f"The campaign's children ({fan.source}) are {fan.child_type.title()}: their Step Functions part costs "
             f"{_usd(now_usd)} per 1M messages; as {other.child_type.title()} it would cost {_usd(other_usd)}. ")
    if fan.child_waits:
        child += ("A child waits (a deferral until the recipients' send time), which Express allows only up to "
                  "5 minutes; a child of a batch of sends that does not wait fits Express. ")
    else:
        child += "A child that does not wait fits Express (under 5 minutes). "
    w(child + "Either way the fan-out is a small part next to SES. For journeys, the lever is fewer states: each "
      f"state a journey enters costs {_usd(price('sfn_transition') * entries)} a month at {entries / 1e6:g}M entries "
      "(a Choice or a bookkeeping Task merged into the Task before it saves that much).")
    w("")
    # DynamoDB: steady write and read rates from the per-unit units
    units = _monthly_units(ev, js, camp, events, entries, messages)
    hours = 730
    w("**DynamoDB on-demand vs provisioned.** The tables are on-demand (`PAY_PER_REQUEST` in template.yaml). "
      f"The month's request units above, spread evenly, against provisioned capacity sized at "
      f"{a['peak_to_average']}x the average (peaks) and {a['provisioned_target_utilisation']:.0%} target "
      "utilisation (auto scaling):")
    w("")
    w("| | Units a month | Average per second | On-demand | Provisioned |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for kind, n, od, hour in (("Writes", units[0], "ddb_wru", "ddb_wcu_hour"), ("Reads", units[1], "ddb_rru", "ddb_rcu_hour")):
        per_s = n / (hours * 3600)
        per_unit_s = per_s * (1.0 if kind == "Writes" else 0.5)  # an RCU serves 2 eventually consistent reads
        cap = per_unit_s * a["peak_to_average"] / a["provisioned_target_utilisation"]
        w(f"| {kind} | {n / 1e6:,.0f}M | {per_s:,.0f} | {_usd(n * price(od))} | {_usd(cap * hours * price(hour))} |")
    breakeven = price("ddb_wcu_hour") / (3600 * price("ddb_wru"))
    used = a["provisioned_target_utilisation"] / a["peak_to_average"]
    steady = a["provisioned_target_utilisation"] / a["steady_peak_to_average"]
    saving = 1 - breakeven / steady
    w("")
    w(f"A provisioned WCU costs as much as {price('ddb_wcu_hour') / price('ddb_wru'):,.0f} on-demand writes an hour, "
      f"so provisioned is cheaper only for a table whose capacity is used more than {breakeven:.0%} on average. "
      f"Sized for peaks at {a['peak_to_average']}x the average, capacity is used {used:.0%}: "
      + ("on-demand stays cheaper for the whole. " if used < breakeven else "provisioned is cheaper for the whole. ")
      + f"A steady table (the events and profiles tables under a constant flow of tracking, peaks at "
      f"{a['steady_peak_to_average']}x) uses {steady:.0%} and saves {saving:.0%} provisioned; the spiky ones (messages "
      "and journey state during a campaign, enrolments) are better left on-demand, or given scheduled scaling "
      "before a campaign.")
    w("")
    ips = a["ses_dedicated_ips"]
    sent = messages + entries * _mean_emails(js, stack)
    w(f"**SES dedicated IPs.** About {sent / 1e6:,.0f}M e-mails a month ({sent / 30 / 1e6:,.1f}M a day) is "
      f"past where shared IPs are advised; {ips} standard dedicated IPs cost "
      f"{_usd(ips * price('ses_dedicated_ip_month'))} a month next to {_usd(sent * price('ses_email'))} of sending "
      "fees, and need weeks of warm-up (a rising daily volume) before a campaign of this size.")
    return o


def _mean_emails(js: list[JourneyCost], stack: Stack) -> float:
    """E-mails per entry on the no-reaction paths, mean over the journeys."""
    return sum(sum(1 for t in tasks_on(j.definition, j.typical, stack) if "email" in t.extras) for j in js) / len(js)


def _monthly_units(ev: list[Line], js: list[JourneyCost], camp: list[Line], events: float, entries: float,
                   messages: float) -> tuple[float, float]:
    """(WRU, RRU) of a month: per-unit units times the volumes (journeys: their mean)."""
    def units(lines: list[Line]) -> tuple[float, float]:
        return sum(ln.wru for ln in lines), sum(ln.rru for ln in lines)

    jw = sum(units(j.lines)[0] for j in js) / len(js)
    jr = sum(units(j.lines)[1] for j in js) / len(js)
    (ew, er), (cw, cr) = units(ev), units(camp)
    return events * ew + entries * jw + messages * cw, events * er + entries * jr + messages * cr


def main(argv: list[str] | None = None) -> int:
    import cost_calls

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when docs/cost.md is stale")
    ap.add_argument("--measure", action="store_true", help="count the calls on the local twin again first")
    args = ap.parse_args(argv)
    if args.measure:
        cost_calls.save(cost_calls.measure())
    text = render()
    if args.check:
        if not DOC.exists() or DOC.read_text() != text:
            print("docs/cost.md is stale: run python benchmarks/cost_model.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text)
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
