"""Does each function's IAM policy allow what its code does on the twin, and no more?

The twin does not enforce IAM, so a missing right only shows on AWS (AccessDenied). While
recording (:func:`recording`, or ``POLKU_RECORD_IAM=1`` for a whole test session) every AWS call a
handler makes is noted with the logical id of the function that runs it
(:func:`polku.twin.lambda_runtime.current_function`) and the ARN of the resource it touches.
:func:`check` compares the calls with each function's policies in the SAM-translated template
(policy templates such as ``DynamoDBReadPolicy`` expanded to concrete actions): a call no
statement allows is *missing*; a granted (action, resource) no call used is *unused*.

Calls are seen at ``BaseClient._make_api_call`` (where botocore emits ``provide-client-params``
with the call's parameters), so clients created before recording began are seen too; nothing is
installed while nobody records. Threads a handler starts from a ``ThreadPoolExecutor`` inherit
the function (as in Lambda, where every thread of the process is the function). Calls outside
any handler (tests, provisioning, Step Functions' own service integrations) are not the
functions' and are ignored.

Not modelled: Deny statements, Conditions, resource policies, permission boundaries (Polku's
template uses none of them for its functions).
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator

_lock = threading.Lock()
_active: "Recording | None" = None
_installed = False

# botocore operation names whose IAM action has another name.
_ACTION_NAMES = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeFunction",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "HeadBucket"): "ListBucket",
}
# IAM service prefixes that differ from botocore's signing name.
_PREFIXES = {"sesv2": "ses", "email": "ses"}


@dataclass(frozen=True)
class Call:
    function: str  # logical id in template.yaml
    action: str  # "dynamodb:PutItem"
    resource: str  # an ARN, or "*" for actions without resource-level permissions


@dataclass
class Recording:
    calls: Counter = field(default_factory=Counter)  # Call -> count
    unmapped: Counter = field(default_factory=Counter)  # (function, action): resource not known
    parent: "Recording | None" = None  # an enclosing recording (a whole session's) sees the calls too

    def add(self, function: str, action: str, resources: list[str] | None) -> None:
        with _lock:
            if resources is None:
                self.unmapped[(function, action)] += 1
            else:
                for r in resources:
                    self.calls[Call(function, action, r)] += 1
        if self.parent is not None:
            self.parent.add(function, action, resources)


def _arn(service: str, region: str, account: str, rest: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{rest}"


def _name_or_arn(value: Any, service: str, region: str, account: str, kind: str) -> str:
    value = str(value)
    return value if value.startswith("arn:") else _arn(service, region, account, f"{kind}{value}")


def resources_of(prefix: str, operation: str, params: dict, region: str, account: str) -> list[str] | None:
    """The ARNs an IAM policy must allow for this call (None: not known here)."""
    p = params or {}
    if prefix == "dynamodb":
        if operation in ("BatchGetItem", "BatchWriteItem"):
            return [_name_or_arn(t, "dynamodb", region, account, "table/") for t in (p.get("RequestItems") or {})]
        if "TableName" in p:
            table = _name_or_arn(p["TableName"], "dynamodb", region, account, "table/")
            return [f"{table}/index/{p['IndexName']}" if p.get("IndexName") else table]
        if "TableArn" in p:
            return [str(p["TableArn"])]
        return None
    if prefix == "states":
        for key in ("stateMachineArn", "stateMachineAliasArn", "executionArn", "activityArn"):
            if key in p:
                return [str(p[key])]
        if operation == "CreateStateMachine" and p.get("name"):
            return [_arn("states", region, account, f"stateMachine:{p['name']}")]
        if operation == "CreateStateMachineAlias" and p.get("routingConfiguration"):
            version = str(p["routingConfiguration"][0]["stateMachineVersionArn"])
            return [f"{version.rsplit(':', 1)[0]}:{p.get('name')}"]
        if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat", "ListStateMachines"):
            return ["*"]
        return None
    if prefix == "ses":
        sender = str(p.get("FromEmailAddress") or p.get("Source") or "")
        out = []
        if "@" in sender:
            out.append(_arn("ses", region, account, f"identity/{sender.rsplit('@', 1)[1].strip('>')}"))
        if p.get("ConfigurationSetName"):
            out.append(_arn("ses", region, account, f"configuration-set/{p['ConfigurationSetName']}"))
        return out or None
    if prefix == "sns":
        target = p.get("TopicArn") or p.get("TargetArn")
        if target:
            return [str(target)]
        return ["*"] if p.get("PhoneNumber") else None
    if prefix == "events":
        if operation == "PutEvents":
            return sorted({_name_or_arn(e.get("EventBusName") or "default", "events", region, account, "event-bus/")
                           for e in p.get("Entries") or []})
        return None
    if prefix == "sqs":
        url = p.get("QueueUrl")
        if url:
            return [_arn("sqs", region, account, str(url).rstrip("/").rsplit("/", 1)[-1])]
        return None
    if prefix == "secretsmanager":
        secret = p.get("SecretId")
        return [str(secret) if str(secret).startswith("arn:") else _arn("secretsmanager", region, account, f"secret:{secret}")] \
            if secret else None
    if prefix == "lambda":
        fn = p.get("FunctionName")
        return [_name_or_arn(fn, "lambda", region, account, "function:")] if fn else None
    if prefix == "s3":
        bucket = p.get("Bucket")
        if not bucket:
            return None
        return [f"arn:aws:s3:::{bucket}/{p['Key']}" if p.get("Key") is not None else f"arn:aws:s3:::{bucket}"]
    return None


def implied(prefix: str, operation: str, params: dict, resources: list[str] | None) -> list[tuple[str, list[str] | None]]:
    """Further rights a call needs on AWS: publishing a version with Create/UpdateStateMachine
    (``publish``) needs states:PublishStateMachineVersion, and a ``roleArn`` given needs iam:PassRole on it."""
    p = params or {}
    out = []
    if prefix == "states" and operation in ("CreateStateMachine", "UpdateStateMachine"):
        if p.get("publish"):
            out.append(("states:PublishStateMachineVersion", resources))
        if p.get("roleArn"):
            out.append(("iam:PassRole", [str(p["roleArn"])]))
    return out


@contextlib.contextmanager
def acting_as(principal: str) -> Iterator[None]:
    """Record the calls made inside the block as ``principal``'s (not a function: e.g. the role that
    runs ``polku journeys publish``, checked against its managed policy with :func:`policy_grants`)."""
    from polku.twin import lambda_runtime

    with lambda_runtime.running_as(principal):
        yield


def _note(client, operation_name: str, api_params: dict) -> None:
    recording = _active
    if recording is None:
        return
    from polku.twin import lambda_runtime

    function = lambda_runtime.current_function()
    if function is None:
        return
    model = client.meta.service_model
    prefix = _PREFIXES.get(model.signing_name, model.signing_name)
    action = f"{prefix}:{_ACTION_NAMES.get((prefix, operation_name), operation_name)}"
    from polku.twin.twin import ACCOUNT_ID

    resources = resources_of(prefix, operation_name, api_params, client.meta.region_name, ACCOUNT_ID)
    recording.add(function, action, resources)
    for other, on in implied(prefix, operation_name, api_params, resources):
        recording.add(function, other, on)


def _install() -> None:
    """Wrap botocore's API call entry and executor submission (once, on the first recording)."""
    global _installed
    if _installed:
        return
    _installed = True
    from concurrent.futures import ThreadPoolExecutor

    from botocore.client import BaseClient

    original_call = BaseClient._make_api_call

    def _make_api_call(self, operation_name, api_params):
        if _active is not None:
            _note(self, operation_name, api_params)
        return original_call(self, operation_name, api_params)

    BaseClient._make_api_call = _make_api_call

    original_submit = ThreadPoolExecutor.submit

    def submit(self, fn, /, *args, **kwargs):
        if _active is None:
            return original_submit(self, fn, *args, **kwargs)
        return original_submit(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Record every AWS call the twin's handlers make inside the block."""
    global _active
    _install()
    previous = _active
    rec = Recording(parent=previous)
    _active = rec
    try:
        yield rec
    finally:
        _active = previous


def start_from_environment() -> Recording | None:
    """``POLKU_RECORD_IAM=1``: record from now on (for a whole session; :func:`active` returns it)."""
    global _active
    if os.environ.get("POLKU_RECORD_IAM", "") not in ("1", "true", "yes"):
        return None
    _install()
    if _active is None:
        _active = Recording()
    return _active


def active() -> Recording | None:
    return _active


# ------------------------------------------------------------------ policies
@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]  # patterns, "dynamodb:Get*"
    resources: tuple[str, ...]  # ARN patterns, "*"

    def allows(self, action: str, resource: str) -> bool:
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in self.actions):
            return False
        if resource == "*":  # no resource-level permission: only a statement on "*" allows it
            return "*" in self.resources
        return any(fnmatch.fnmatchcase(resource, r) for r in self.resources)


def _statement_grants(statements, resolver) -> list[Grant]:
    grants = []
    for st in statements or []:
        if st.get("Effect") != "Allow":
            continue
        actions = st.get("Action")
        actions = [actions] if isinstance(actions, str) else list(actions or [])
        raw = st.get("Resource")
        raw = raw if isinstance(raw, list) else [raw]
        resolved = []
        for r in raw:
            value = resolver.resolve(r)
            resolved.extend(value if isinstance(value, list) else [value])
        grants.append(Grant(tuple(actions), tuple(str(r) for r in resolved)))
    return grants


def policy_grants(document: dict, resolver) -> list[Grant]:
    """The Allow statements of one policy document (e.g. an AWS::IAM::ManagedPolicy's), resolved."""
    return _statement_grants(document.get("Statement"), resolver)


def function_grants(translated: dict, resolver) -> dict[str, list[Grant]]:
    """Each function's Allow statements from its role in the SAM-translated template, with the
    intrinsics resolved to the twin's names and ARNs (``resolver`` is the twin's)."""
    resources = translated["Resources"]
    out: dict[str, list[Grant]] = {}
    for lid, res in resources.items():
        if res.get("Type") != "AWS::Lambda::Function":
            continue
        role = (res.get("Properties") or {}).get("Role")
        role_id = role.get("Fn::GetAtt", [None])[0] if isinstance(role, dict) else None
        if role_id not in resources:
            continue
        grants = []
        for policy in resources[role_id].get("Properties", {}).get("Policies") or []:
            grants.extend(_statement_grants(policy["PolicyDocument"].get("Statement"), resolver))
        out[lid] = grants
    return out


@dataclass
class Agreement:
    missing: dict[str, list[tuple[str, str]]]  # function -> (action, resource) no statement allows
    unused: dict[str, list[tuple[str, str]]]  # function -> granted (action, resource) no call used
    unmapped: dict[str, list[str]]  # function -> actions whose resource is not known (action-only check)
    called: dict[str, int]  # function -> calls recorded

    def report(self) -> str:
        lines = []
        for fn, rows in sorted(self.missing.items()):
            lines += [f"MISSING {fn}: {a} on {r}" for a, r in rows]
        for fn, rows in sorted(self.unused.items()):
            by_resource: dict[str, list[str]] = {}
            for a, r in rows:
                by_resource.setdefault(r, []).append(a.split(":", 1)[-1])
            lines += [f"unused {fn}: {r}: {', '.join(sorted(acts))}" for r, acts in sorted(by_resource.items())]
        for fn, actions in sorted(self.unmapped.items()):
            lines += [f"resource not checked {fn}: {a}" for a in actions]
        return "\n".join(lines)


def check(rec: Recording, grants: dict[str, list[Grant]]) -> Agreement:
    missing: dict[str, list] = {}
    used: set[tuple[str, int, str, str]] = set()
    called: Counter = Counter()
    for call, n in rec.calls.items():
        called[call.function] += n
        allowing = [(i, g) for i, g in enumerate(grants.get(call.function, [])) if g.allows(call.action, call.resource)]
        if not allowing:
            missing.setdefault(call.function, []).append((call.action, call.resource))
        for i, g in allowing:
            for a in g.actions:
                if fnmatch.fnmatchcase(call.action.lower(), a.lower()):
                    for r in g.resources:
                        if r == "*" or fnmatch.fnmatchcase(call.resource, r):
                            used.add((call.function, i, a, r))
    unmapped: dict[str, list] = {}
    for (fn, action), n in rec.unmapped.items():
        called[fn] += n
        if not any(any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in g.actions) for g in grants.get(fn, [])):
            missing.setdefault(fn, []).append((action, "?"))
        unmapped.setdefault(fn, []).append(action)
        for i, g in enumerate(grants.get(fn, [])):
            for a in g.actions:
                if fnmatch.fnmatchcase(action.lower(), a.lower()):
                    used.update((fn, i, a, r) for r in g.resources)
    unused: dict[str, list] = {}
    for fn in called:
        for i, g in enumerate(grants.get(fn, [])):
            for a in g.actions:
                for r in g.resources:
                    if (fn, i, a, r) not in used:
                        unused.setdefault(fn, []).append((a, r))
    return Agreement({k: sorted(set(v)) for k, v in missing.items()},
                     {k: sorted(set(v)) for k, v in unused.items()},
                     {k: sorted(set(v)) for k, v in unmapped.items()}, dict(called))
