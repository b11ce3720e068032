"""Lint rules that catch what breaks journeys in production (issue #17, 4), beside the checks of
:mod:`polku.journeys.lint` (which runs them for every definition it lints):

* a Choice on a variable that no earlier state sets (nor the execution's input): the rule can never
  match, or the Choice fails the run with ``States.Runtime`` when the path is missing;
* a Wait (or a task-token wait's ``TimeoutSeconds``) longer than the registry's re-entry window: a
  customer who triggers the journey again after the cooldown is still standing in the wait, so the
  trigger is dropped (a customer is in a journey at most once at a time);
* a template the journey names that does not exist for a step: a variant's ``template``, a template
  without the default locale, a Send that asks for a channel its template has no block for;
* a trigger (or goal, exit) that no tracking event can satisfy: an unknown type, a property the
  type does not have, ``exists: false`` on a required property. The event types and their
  properties are :data:`polku.tracking.event_schema.EVENT_TYPES`, the table docs/events.md shows;
* who may start a run: a journey that cannot send before it waits for an event (or sends nothing)
  must say ``requires_reachable`` in the registry; ``true`` on a journey without a Send is refused.

A Send that does not handle a ``deferred`` result is refused by ``lint._deferred_findings``.
Every finding names the file, the state (when there is one) and the fix. Pure apart from reading
the registry and the template folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from polku.journeys.definition import Definition
from polku.journeys.graph import human_seconds
from polku.journeys.registry import Journey, RegistryError, load as load_registry

SEND_RESOURCE = "${SendFunctionArn}"
# What a run starts with (polku.journeys.runs.enter builds exactly these; a test holds them equal).
EXECUTION_INPUT = ("customer_id", "journey", "variant", "entered_at", "product_id", "trigger", "overrides")
# Envelope fields of a tracking event a trigger may filter on besides properties.* and context.*.
EVENT_FIELDS = ("event_id", "type", "anonymous_id", "customer_id", "ts")


def _finding(*args, **kwargs):
    from polku.journeys.lint import Finding

    return Finding(*args, **kwargs)


# ---------------------------------------------------------------- entry point
def findings_for_file(rel: str, path: Path, text: str, registry_rel: str, templates_root: Path | None) -> list:
    """The rules below for one definition file; the registry beside it gives the journey's entry
    (no registry, or no entry for the file: only the rules that need none)."""
    try:
        d = Definition.parse(text)
    except (ValueError, json.JSONDecodeError):
        return []  # lint reports the syntax already
    out = choice_variable_findings(rel, d)
    journey = _journey_of(path)
    if journey is None:
        return out
    out += reentry_wait_findings(rel, d, journey, registry_rel)
    out += trigger_findings(registry_rel, journey)
    out += reachability_findings(rel, d, journey, registry_rel)
    if templates_root is not None and (templates_root / "_layouts").is_dir():
        out += template_findings(rel, d, journey, templates_root)
    return out


def _journey_of(path: Path) -> Journey | None:
    reg_path = path.parent / "registry.yaml"
    if not reg_path.is_file():
        return None
    try:
        reg = load_registry(reg_path)
    except RegistryError:
        return None  # lint's registry check reports it
    return next((j for j in reg.journeys.values() if j.file == path.name), None)


# ---------------------------------------------------------------- Choice on an unset variable
def _paths_set_by(s: dict) -> list[str] | None:
    """JSONPaths a state writes into the run's data; None when it replaces the whole data (then
    anything may be set after it and nothing can be said)."""
    t = s.get("Type")
    if t in ("Choice", "Succeed", "Fail", "Wait"):
        return []
    if isinstance(s.get("OutputPath"), str) and s["OutputPath"] != "$":
        return None
    rp = s.get("ResultPath", "$")
    if isinstance(rp, str) and rp != "$":
        out = [rp]
    elif rp is None or (t == "Pass" and "Result" not in s and "Parameters" not in s):
        out = []  # ResultPath null, or a Pass without a result: the input passes on unchanged
    else:
        return None
    for c in s.get("Catch") or []:
        if isinstance(c, dict):
            crp = c.get("ResultPath", "$")
            if crp is None:
                continue
            if not isinstance(crp, str) or crp == "$":
                return None
            out.append(crp)
    return out


def _ancestors(d: Definition, name: str) -> set[str]:
    preds: dict[str, set[str]] = {}
    for e in d.edges:
        preds.setdefault(e.target, set()).add(e.source)
    seen: set[str] = set()
    todo = list(preds.get(name, ()))
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(preds.get(n, ()))
    return seen & set(d.reachable())


def _rule_variables(rule: dict):
    for op in ("And", "Or"):
        for r in rule.get(op) or []:
            if isinstance(r, dict):
                yield from _rule_variables(r)
    if isinstance(rule.get("Not"), dict):
        yield from _rule_variables(rule["Not"])
    if isinstance(rule.get("Variable"), str):
        yield rule["Variable"]


def _covers(written: str, read: str) -> bool:
    return read == written or read.startswith(written + ".") or read.startswith(written + "[") or \
        written.startswith(read + ".")


def choice_variable_findings(file: str, d: Definition) -> list:
    out = []
    for name, s in d.states.items():
        if not isinstance(s, dict) or s.get("Type") != "Choice" or name not in d.reachable():
            continue
        written = [f"$.{k}" for k in EXECUTION_INPUT]
        for a in _ancestors(d, name):
            st = d.states.get(a)
            paths = _paths_set_by(st) if isinstance(st, dict) else []
            if paths is None:
                written = None
                break
            written += paths
        if written is None:
            continue
        for rule in s.get("Choices") or []:
            if not isinstance(rule, dict):
                continue
            for var in _rule_variables(rule):
                if not var.startswith("$.") or any(_covers(w, var) for w in written):
                    continue
                setters = sorted(n for n, st in d.states.items() if isinstance(st, dict) and n != name
                                 and any(_covers(p, var) for p in (_paths_set_by(st) or [])))
                hint = (f"state {', '.join(setters)} sets it but runs only after this Choice (or on another path)"
                        if setters else "no state sets it")
                out.append(_finding(
                    file, name, f"Choice reads {var}, which no earlier state sets ({hint}); the rule never "
                    "matches as meant (a missing path fails the run with States.Runtime)",
                    f"set it before {name} (a Task with \"ResultPath\": \"{var.split('.')[0]}.{var.split('.')[1]}\"), "
                    f"or read a field the run has: {', '.join('$.' + k for k in EXECUTION_INPUT)} or an earlier "
                    "state's ResultPath"))
    return out


# ---------------------------------------------------------------- a Wait longer than re-entry
def _wait_seconds(s: dict) -> float | None:
    if s.get("Type") == "Wait" and isinstance(s.get("Seconds"), (int, float)):
        return float(s["Seconds"])
    if s.get("Type") == "Task" and str(s.get("Resource", "")).endswith(".waitForTaskToken") \
            and isinstance(s.get("TimeoutSeconds"), (int, float)):
        return float(s["TimeoutSeconds"])
    return None


def reentry_wait_findings(file: str, d: Definition, journey: Journey, registry_rel: str) -> list:
    if journey.reentry.policy != "cooldown":
        return []
    window = journey.reentry.cooldown_hours * 3600
    out = []
    for name, s in d.states.items():
        sec = _wait_seconds(s) if isinstance(s, dict) else None
        if sec is None or sec <= window:
            continue
        hours = sec / 3600
        out.append(_finding(
            file, name, f"waits {human_seconds(int(sec))}, longer than the re-entry window of journey "
            f"{journey.name} (cooldown {journey.reentry.cooldown_hours:g} h): a customer who triggers it again "
            "after the cooldown is still waiting here, so that trigger is dropped",
            f"in {registry_rel} set {journey.name}'s reentry cooldown_hours to at least {hours:g}, or wait at most "
            f"{int(window)} seconds here"))
    return out


# ---------------------------------------------------------------- templates for each step
def template_findings(file: str, d: Definition, journey: Journey, templates_root: Path) -> list:
    from polku.messaging.templating import TemplateRenderError, TemplateStore

    store = TemplateStore(templates_root)
    names = set(store.message_names())
    out = []
    for name, s in d.states.items():
        if not isinstance(s, dict) or s.get("Resource") != SEND_RESOURCE:
            continue
        p = s.get("Parameters") or {}
        own = p.get("template")
        if not isinstance(own, str) or p.get("action"):
            continue
        wanted = [(own, None)] + [(v.template, variant) for variant, v in sorted(journey.variants.items())
                                  if v.template and v.template != own]
        for template, variant in wanted:
            who = f"variant {variant}'s template {template!r}" if variant else f"template {template!r}"
            if template not in names:
                if variant:  # the step's own template: lint's "unknown template" says it already
                    out.append(_finding(file, name, f"{who} (registry variants) does not exist for this Send",
                                        f"create templates/messages/{template}/ (polku templates new) or change "
                                        f"variants.{variant}.template of {journey.name}"))
                continue
            try:
                channels = store.channels(template)
            except TemplateRenderError as exc:
                out.append(_finding(file, name, f"{who} cannot be used: {exc}",
                                    f"add templates/messages/{template}/en.j2 (the default locale)"))
                continue
            channel = p.get("channel")
            if isinstance(channel, str) and channel != "webhook" and channel not in channels:
                out.append(_finding(file, name, f"Send asks for channel {channel!r} but {who} has no "
                                    f"{channel} block (it has: {', '.join(channels) or 'none'})",
                                    f"add the {channel} block to templates/messages/{template}/ or drop \"channel\""))
    return out


# ---------------------------------------------------------------- triggers no event satisfies
def trigger_findings(registry_rel: str, journey: Journey) -> list:
    from polku.tracking.event_schema import CONTEXT_FIELDS, EVENT_TYPES

    out = []
    known = ", ".join(sorted(EVENT_TYPES))

    def unknown(event: str, role: str):
        return _finding(registry_rel, None, f"journey {journey.name}: {role} event {event!r} is not a tracking event "
                        "type (docs/events.md), so no event can satisfy it",
                        f"use one of: {known}; or a custom event with where: {{properties.name: {event}}}")

    t = journey.trigger
    if t.event is not None:
        et = EVENT_TYPES.get(t.event)
        if et is None:
            out.append(unknown(t.event, "trigger"))
        else:
            props = {p.name: p for p in et.props}
            for path, matcher in (t.where or {}).items():
                head, _, rest = str(path).partition(".")
                prop = rest.split(".")[0]
                ok = (head == "properties" and (prop in props or et.name == "custom")) or \
                     (head == "context" and prop in CONTEXT_FIELDS and "." not in rest) or \
                     (not rest and head in EVENT_FIELDS)
                if not ok:
                    have = ", ".join(f"properties.{p}" for p in props) or "none"
                    out.append(_finding(
                        registry_rel, None, f"journey {journey.name}: trigger filters on {path}, which a "
                        f"{t.event} event does not have (docs/events.md), so no event satisfies it",
                        f"filter on one of: {have}, context.<{'|'.join(CONTEXT_FIELDS)}>, or {', '.join(EVENT_FIELDS)}"))
                    continue
                p = props.get(prop) if head == "properties" else None
                required = (p is not None and p.required and not et.one_of) or (not rest and head in ("event_id", "type", "ts"))
                if required and isinstance(matcher, dict) and matcher.get("exists") is False:
                    out.append(_finding(
                        registry_rel, None, f"journey {journey.name}: trigger wants {path} absent, but every "
                        f"{t.event} event has it (required), so no event satisfies it",
                        f"remove the exists: false matcher on {path}"))
    for role, events in (("goal", journey.goal), ("exit", journey.exit)):
        for event in events:
            if event not in EVENT_TYPES:
                out.append(unknown(event, role))
    return out


# ---------------------------------------------------------------- who may start a run
def _is_send(s) -> bool:
    p = s.get("Parameters") if isinstance(s, dict) else None
    return s.get("Type") == "Task" and s.get("Resource") == SEND_RESOURCE and isinstance(p, dict) \
        and not p.get("action") and isinstance(p.get("template"), str)


def _is_event_wait(s) -> bool:
    return isinstance(s, dict) and str(s.get("Resource", "")).endswith(".waitForTaskToken")


def first_send(d: Definition) -> str | None:
    """The first Send a run can reach without waiting for an event (a task-token wait), or None.
    Time waits do not count: a journey that writes an hour after entry still writes to whoever entered."""
    seen, queue = set(), [d.start]
    while queue:
        name = queue.pop(0)
        if name in seen or name not in d.states:
            continue
        seen.add(name)
        s = d.states[name]
        if _is_send(s):
            return name
        if not _is_event_wait(s):
            queue.extend(d.successors(name))
        else:  # only its time-out path leaves without the event
            queue.extend(e.target for e in d.edges if e.source == name and e.kind == "catch"
                         and e.label == "timed out")
    return None


def reachability_findings(file: str, d: Definition, journey: Journey, registry_rel: str) -> list:
    """``requires_reachable`` against the definition (docs/journeys.md, "Who may start a journey"):
    unsaid, it means yes, which is only obvious for a journey that can send before an event wait."""
    sends = [n for n, s in d.states.items() if _is_send(s)]
    if journey.requires_reachable is True and not sends:
        return [_finding(registry_rel, None, f"journey {journey.name}: requires_reachable: true, but {file} has no "
                         "Send step, so whether a channel reaches the customer says nothing about this journey",
                         f"remove requires_reachable from {journey.name} or set it to false")]
    if journey.requires_reachable is not None or first_send(d) is not None:
        return []
    what = ("has no Send step" if not sends else
            f"sends only after waiting for an event ({', '.join(sorted(sends))} follow an event wait)")
    return [_finding(registry_rel, None, f"journey {journey.name}: {file} {what}; whether it starts for a customer no "
                     "consented channel reaches (the default: it does not) must be said",
                     f"in {registry_rel} give {journey.name} requires_reachable: false (start for everyone) or true "
                     "(start only for reachable customers)")]
