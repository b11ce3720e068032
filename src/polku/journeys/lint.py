"""``polku journeys lint``: is an edited journey valid, and does it do what a marketer thinks?

Two layers:

1. the ASL schema, checked by the npm ``asl-validator`` (node_modules/.bin);
2. Polku's own rules, each reported with file, state and a fix:
   every transition target exists; every Choice has a Default; every state is
   reachable; every path reaches an end; every Wait is bounded (Seconds within a
   limit, or a SecondsPath read from a step that bounds it, and every task-token
   wait has a TimeoutSeconds); every Send's result is checked for ``deferred`` (quiet hours) and
   waits until its ``send_at`` to send again; every Task retries; every ``${Substitution}`` is
   one that the stack provides (template.yaml's JourneySubstitutions output); every step action
   and message template exists; the registry and the files agree (nothing else: a journey is
   its file and its entry, published by ``polku journeys publish``).
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from polku.journeys.definition import Definition, substitutions_in
from polku.journeys.registry import RegistryError, load as load_registry

MAX_WAIT_SECONDS = 90 * 24 * 3600
STEP_RESOURCE = "${JourneyStepFunctionArn}"
SEND_RESOURCE = "${SendFunctionArn}"
OFFER_RESOURCE = "${OfferFunctionArn}"
WAIT_FOR_EVENT = "${WaitForEventFunctionArn}"
OFFER_ACTIONS = ("grant", "revoke")


@dataclass(frozen=True)
class Finding:
    file: str
    state: str | None
    message: str
    fix: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"{self.file}: state {json.dumps(self.state)}" if self.state else self.file
        return f"{where}: {self.severity}: {self.message} -- fix: {self.fix}"


@dataclass
class Context:
    """What the rules check references against."""

    substitutions: set[str]
    step_actions: set[str]
    bounded_actions: dict[str, str]
    templates: set[str] | None  # None: no template catalogue found (not checked)


def repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "template.yaml").is_file() and (parent / "statemachines").is_dir():
            return parent
    return Path.cwd()


def default_context(root: Path | None = None) -> Context:
    from polku.journeys.steps import ACTIONS, BOUNDED_WAIT_ACTIONS

    root = root or repo_root()
    return Context(
        substitutions=template_substitutions(root),
        step_actions=set(ACTIONS),
        bounded_actions=dict(BOUNDED_WAIT_ACTIONS),
        templates=known_templates(root),
    )


def template_substitutions(root: Path) -> set[str]:
    """Every ``${Name}`` a journey may use: the keys of template.yaml's JourneySubstitutions output
    (what ``polku journeys publish`` fills in)."""
    from polku.twin.template import Template

    value = (Template.load(root / "template.yaml").outputs.get("JourneySubstitutions") or {}).get("Value") or {}
    text = value.get("Fn::Sub", "") if isinstance(value, dict) else str(value)
    try:
        return set(json.loads(text))
    except ValueError:
        return set()


def known_templates(root: Path, folder: Path | None = None) -> set[str] | None:
    """Names of the message templates Send can render (the messaging template store), or None.
    ``folder``: another templates folder than root/templates (a journey being made in a copy)."""
    folder = Path(folder) if folder else root / "templates"
    if not (folder / "_layouts").is_dir():
        return None
    try:
        from polku.messaging.templating import TemplateStore

        return set(TemplateStore(folder).message_names())
    except (ImportError, FileNotFoundError):
        return {p.name for p in (folder / "messages").iterdir() if p.is_dir()} if (folder / "messages").is_dir() else None


# ---------------------------------------------------------------- schema (asl-validator)
def schema_findings(path: Path, root: Path) -> list[Finding]:
    exe = root / "node_modules" / ".bin" / "asl-validator"
    if not exe.exists():
        return [Finding(str(path), None, "asl-validator is not installed", "run `npm ci` in the repository", "error")]
    proc = subprocess.run([str(exe), "--json-path", str(path)], capture_output=True, text=True, timeout=60)
    if proc.returncode == 0:
        return []
    out = []
    for line in (proc.stdout + proc.stderr).splitlines():
        line = line.strip()
        if not line or line.startswith("✕") or line.startswith("✓"):
            continue
        m = re.search(r"(?:State|target:?) ([^\s:]+)", line)
        out.append(Finding(str(path), m.group(1) if m else None, f"ASL schema: {line}",
                           "correct the definition as the message says (Amazon States Language)"))
    return out or [Finding(str(path), None, "ASL schema check failed", "run asl-validator on the file for details")]


# ---------------------------------------------------------------- Polku's rules
def definition_findings(file: str, text: str, ctx: Context) -> list[Finding]:
    f: list[Finding] = []
    try:
        d = Definition.parse(text)
    except (ValueError, json.JSONDecodeError) as exc:
        return [Finding(file, None, f"not valid JSON/ASL ({exc})", "fix the JSON syntax (a missing comma or quote?)")]
    if not d.comment.strip():
        f.append(Finding(file, None, "no Comment header", "add a top-level \"Comment\" explaining the journey's business logic", "warning"))
    if d.start not in d.states:
        f.append(Finding(file, None, f"StartAt {d.start!r} is not a state", f"set StartAt to one of: {', '.join(d.states)}"))
    for name in sorted(substitutions_in(text) - ctx.substitutions):
        f.append(Finding(file, _state_using(d, "${" + name + "}"), f"unknown substitution ${{{name}}}",
                         f"use one template.yaml provides: {', '.join('${%s}' % s for s in sorted(ctx.substitutions))}"))
    for e in d.edges:
        if e.target not in d.states:
            f.append(Finding(file, e.source, f"transition target {e.target!r} does not exist",
                             f"add a state named {e.target!r} or point {'Default' if e.kind == 'default' else 'Next'} at an existing state"))
    for name, s in d.states.items():
        if not isinstance(s, dict):
            f.append(Finding(file, name, "state is not an object", "give the state a Type"))
            continue
        t = s.get("Type")
        if t == "Choice" and "Default" not in s:
            f.append(Finding(file, name, "Choice has no Default",
                             "add \"Default\": \"<state>\" so a customer matching no rule still moves on"))
        if t not in ("Choice", "Succeed", "Fail") and not s.get("End") and "Next" not in s:
            f.append(Finding(file, name, "state has neither Next nor End", "add \"Next\": \"<state>\" or \"End\": true"))
        if t == "Wait":
            f.extend(_wait_findings(file, name, s, d, ctx))
        if t == "Task":
            f.extend(_task_findings(file, name, s, ctx))
            if s.get("Resource") == SEND_RESOURCE:
                f.extend(_deferred_findings(file, name, s, d))
            if "TimeoutSecondsPath" in s:  # a task-token wait that ends at a computed time must be bounded too
                f.extend(_wait_findings(file, name, {"SecondsPath": s["TimeoutSecondsPath"]}, d, ctx))
    reachable = set(d.reachable())
    for name in d.states:
        if name not in reachable:
            f.append(Finding(file, name, "state is unreachable (no transition leads to it)",
                             "point a Next/Choice/Default/Catch at it, or delete it"))
    ending = _can_end(d)
    for name in d.reachable():
        if name not in ending:
            f.append(Finding(file, name, "no path from this state reaches an end (an endless loop)",
                             "add a Choice or Catch that leads to a Succeed/Fail state or a state with End: true"))
    return f


def _state_using(d: Definition, needle: str) -> str | None:
    for name, s in d.states.items():
        if needle in json.dumps(s):
            return name
    return None


def _can_end(d: Definition) -> set[str]:
    ending = {n for n in d.states if d.is_terminal(n)}
    changed = True
    while changed:
        changed = False
        for n in d.states:
            if n not in ending and any(t in ending for t in d.successors(n)):
                ending.add(n)
                changed = True
    return ending


def _wait_findings(file: str, name: str, s: dict, d: Definition, ctx: Context) -> list[Finding]:
    if "Seconds" in s:
        sec = s["Seconds"]
        if not isinstance(sec, (int, float)) or sec > MAX_WAIT_SECONDS:
            return [Finding(file, name, f"Wait of {sec} seconds is longer than {MAX_WAIT_SECONDS // 86400} days",
                            f"use at most {MAX_WAIT_SECONDS} seconds")]
        return []
    if "Timestamp" in s:
        return []
    path = s.get("SecondsPath") or s.get("TimestampPath")
    if not isinstance(path, str):
        return [Finding(file, name, "Wait has no Seconds, Timestamp, SecondsPath or TimestampPath", "give it Seconds")]
    # Bounded when the path is read from the result of a step known to bound it.
    for other_name, other in d.states.items():
        rp = other.get("ResultPath") if isinstance(other, dict) else None
        if not isinstance(rp, str) or not path.startswith(rp + "."):
            continue
        field = path[len(rp) + 1:]
        params = other.get("Parameters") or {}
        if other.get("Resource") == STEP_RESOURCE and ctx.bounded_actions.get(params.get("action")) == field:
            return []
        if other.get("Resource") == OFFER_RESOURCE and params.get("action") == "grant" and field in ("valid_seconds", "valid_until"):
            return []
        if other.get("Resource") == SEND_RESOURCE and "TimestampPath" in s and field == "send_at":
            return []  # a deferral ends when the customer's quiet hours end (within a day)
    return [Finding(file, name, f"unbounded wait: {path} is not produced by a step that bounds it",
                    "use Seconds, or read the time from a choose_send_time step (wait_seconds), an offer grant "
                    "(valid_seconds, valid_until) or a deferred Send (send_at)")]


def _deferred_findings(file: str, name: str, s: dict, d: Definition) -> list[Finding]:
    """A Send may answer ``deferred`` (quiet hours): the journey must wait until ``send_at`` and send
    the same message again, else the message is silently lost."""
    rp = s.get("ResultPath")
    if not isinstance(rp, str) or not rp.startswith("$.") or rp == "$":
        return [Finding(file, name, f"Send keeps no result (ResultPath {rp!r}), so a deferred message cannot be seen",
                        "give the Send its own \"ResultPath\": \"$.<step>_sent\" and check it for deferred")]
    fix = (f"after {name} add a Choice with {{\"Variable\": \"{rp}.status\", \"StringEquals\": \"deferred\", \"Next\": "
           f"\"<wait>\"}} and a Wait with \"TimestampPath\": \"{rp}.send_at\" whose Next is {name}")
    choice = d.states.get(s.get("Next")) if isinstance(s.get("Next"), str) else None
    if not isinstance(choice, dict) or choice.get("Type") != "Choice":
        return [Finding(file, name, "Send's result is not checked for deferred: a message deferred for quiet hours is lost", fix)]
    for rule in choice.get("Choices") or []:
        if rule.get("Variable") == f"{rp}.status" and rule.get("StringEquals") == "deferred":
            # The deferred branch (possibly through checks, e.g. whether an offer is still valid then)
            # must reach a Wait on send_at that leads back to this Send.
            seen, todo = set(), [rule.get("Next")]
            while todo:
                n = todo.pop()
                if n in seen or n == name or not isinstance(d.states.get(n), dict):
                    continue
                seen.add(n)
                st = d.states[n]
                if st.get("Type") == "Wait" and st.get("TimestampPath") == f"{rp}.send_at" and st.get("Next") == name:
                    return []
                todo.extend(d.successors(n))
            return [Finding(file, name, f"a deferred {name} does not wait until {rp}.send_at and send again", fix)]
    return [Finding(file, name, "Send's result is not checked for deferred: a message deferred for quiet hours is lost", fix)]


def _task_findings(file: str, name: str, s: dict, ctx: Context) -> list[Finding]:
    f = []
    resource = str(s.get("Resource", ""))
    params = s.get("Parameters") or {}
    if not s.get("Retry"):
        f.append(Finding(file, name, "Task has no Retry",
                         "add \"Retry\": [{\"ErrorEquals\": [\"States.TaskFailed\"], \"IntervalSeconds\": 2, \"MaxAttempts\": 4, \"BackoffRate\": 2}]"))
    if resource.endswith(".waitForTaskToken"):
        if "TimeoutSeconds" not in s and "TimeoutSecondsPath" not in s and "HeartbeatSeconds" not in s:
            f.append(Finding(file, name, "unbounded wait: task-token wait without TimeoutSeconds",
                             "add \"TimeoutSeconds\": N and a Catch on States.Timeout for the time-out branch"))
        elif isinstance(s.get("TimeoutSeconds"), (int, float)) and s["TimeoutSeconds"] > MAX_WAIT_SECONDS:
            f.append(Finding(file, name, "task-token wait longer than the limit", f"use at most {MAX_WAIT_SECONDS} seconds"))
        payload = params.get("Payload") or {}
        if params.get("FunctionName") == WAIT_FOR_EVENT and not payload.get("event_type"):
            f.append(Finding(file, name, "wait for event names no event_type", "add \"event_type\" to the Payload"))
    if resource == STEP_RESOURCE:
        action = params.get("action")
        if action not in ctx.step_actions:
            f.append(Finding(file, name, f"unknown step action {action!r}",
                             f"use one of: {', '.join(sorted(ctx.step_actions))}"))
    if resource == OFFER_RESOURCE and params.get("action") not in OFFER_ACTIONS:
        f.append(Finding(file, name, f"unknown offer action {params.get('action')!r}", "use grant or revoke"))
    if resource == SEND_RESOURCE:
        f.extend(_send_retry_findings(file, name, s.get("Retry") or []))
        template = params.get("template")
        if not isinstance(template, str):
            f.append(Finding(file, name, "Send names no template", "add \"template\": \"<template name>\""))
        elif ctx.templates is not None and template not in ctx.templates:
            f.append(Finding(file, name, f"unknown template {template!r}",
                             "create the template (polku templates) or use an existing one"))
    return f


def _send_retry_findings(file: str, name: str, retry: list) -> list[Finding]:
    """A Send never retries bad input, and retries ``MessageInProgress`` for longer than the message
    log's ``sending`` lease, so a Send that died after claiming resumes (sends, or reports the
    message ``unknown``) instead of failing the journey."""
    from polku.messaging.message_log import SENDING_LEASE_SECONDS

    def first(error: str) -> dict | None:  # the retrier Step Functions uses for this error
        for r in retry:
            names = (r.get("ErrorEquals") or []) if isinstance(r, dict) else []
            if error in names or "States.TaskFailed" in names or "States.ALL" in names:
                return r
        return None

    f = []
    bad_input = first("SendInputError")
    if bad_input is not None and bad_input.get("MaxAttempts", 3) != 0:
        f.append(Finding(file, name, "Send retries SendInputError (bad input cannot succeed)",
                         "add \"SendInputError\" to a first retrier with \"MaxAttempts\": 0"))
    r = first("MessageInProgress") or {}
    interval, rate = r.get("IntervalSeconds", 1), r.get("BackoffRate", 2.0)
    cap = r.get("MaxDelaySeconds", float("inf"))
    total = sum(min(interval * rate ** i, cap) for i in range(int(r.get("MaxAttempts", 3))))
    if total <= SENDING_LEASE_SECONDS:
        f.append(Finding(file, name, f"Send retries MessageInProgress for {total:g} s, not longer than the "
                         f"{SENDING_LEASE_SECONDS} s sending lease: a Send that died after claiming fails the journey",
                         "add {\"ErrorEquals\": [\"MessageInProgress\"], \"IntervalSeconds\": 30, "
                         "\"MaxAttempts\": 11, \"BackoffRate\": 1.0} before the States.TaskFailed retrier"))
    return f


# ---------------------------------------------------------------- registry agreement
def registry_findings(folder: Path, root: Path) -> list[Finding]:
    reg_path = folder / "registry.yaml"
    rel = _rel(reg_path, root)
    if not reg_path.is_file():
        return [Finding(rel, None, "no registry.yaml beside the definitions", "add one entry per journey")]
    try:
        reg = load_registry(reg_path)
    except RegistryError as exc:
        return [Finding(rel, None, str(exc), "correct the registry entry")]
    f = []
    files = {p.name for p in folder.glob("*.asl.json")}
    machines: dict[str, str] = {}
    for j in reg.journeys.values():
        if j.file not in files:
            f.append(Finding(rel, None, f"journey {j.name}: file {j.file} does not exist", f"create statemachines/{j.file} or fix `file`"))
        if j.state_machine in machines:
            f.append(Finding(rel, None, f"journey {j.name}: state machine polku-<stage>-{j.state_machine} is also "
                             f"{machines[j.state_machine]}'s", "give it its own `state_machine` name"))
        machines.setdefault(j.state_machine, j.name)
    listed = {j.file for j in reg.journeys.values()}
    for name in sorted(files - listed):
        f.append(Finding(_rel(folder / name, root), None, "definition is not in registry.yaml",
                         "add an entry (trigger, goal, re-entry) to statemachines/registry.yaml"))
    return f


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def lint(paths: list[Path] | None = None, root: Path | None = None, schema: bool = True,
         ctx: Context | None = None) -> list[Finding]:
    from polku.journeys import lint_rules  # production breakers (issue #17, 4)

    root = root or repo_root()
    ctx = ctx or default_context(root)
    if not paths:
        paths = [root / "statemachines"]
    files: list[Path] = []
    folders: set[Path] = set()
    findings: list[Finding] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(p.glob("*.asl.json")))
            folders.add(p.resolve())
        elif p.is_file():
            files.append(p)
            if (p.parent / "registry.yaml").is_file():
                folders.add(p.parent.resolve())
        else:
            findings.append(Finding(str(p), None, "no such file or folder", "give a .asl.json file or a folder of them"))
    for file in files:
        rel = _rel(file, root)
        if schema:
            for s in schema_findings(file, root):
                findings.append(Finding(rel, s.state, s.message, s.fix, s.severity))
        text = file.read_text(encoding="utf-8")
        findings.extend(definition_findings(rel, text, ctx))
        findings.extend(lint_rules.findings_for_file(rel, file, text, _rel(file.parent / "registry.yaml", root),
                                                     root / "templates"))
    for folder in sorted(folders):
        findings.extend(registry_findings(folder, root))
    return findings
