"""Publishing journeys: a journey is its ASL file and its registry entry, nothing else.

The stack (template.yaml, or the twin provisioned from it) provides only what every journey
shares, as Outputs: ``StateMachinePrefix`` (``...:stateMachine:polku-<stage>-``),
``JourneyExecutionRoleArn`` (the one role journeys run as: it may invoke exactly the step
functions), ``JourneySubstitutions`` (JSON: each ``${Name}`` an ASL may use -> its value),
``JourneyLogging`` (JSON: the Step Functions logging configuration) and ``JourneysBucketName``
(where the published registry lives, ``registry.yaml``, which the trigger, the scheduler,
enrolment and Send read with a short cache: :func:`polku.journeys.registry.current`).

:func:`publish` creates or updates the state machine ``<prefix><state_machine>`` with
``publish=True`` (a new immutable version) and points the alias ``live`` at it; runs start on
the alias (:meth:`Journey.live_arn`), so a running execution finishes on the version it began
with and new entries run the new one. Publishing an unchanged definition makes no version.
:func:`rollback` points ``live`` back at the version before the one it names. :func:`publish_all`
publishes every journey of a registry folder, then the registry itself (after the state
machines, so a reader never sees a journey whose alias does not exist yet).

The twin publishes every journey this way when it starts (one path); ``polku journeys publish``
does it against the twin or a deployed stack (``--stack``). docs/deploy.md, "Publishing journeys".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from polku.journeys import registry as registry_mod
from polku.journeys.registry import Journey, Registry

ALIAS = registry_mod.LIVE_ALIAS
REGISTRY_KEY = registry_mod.PUBLISHED_KEY
TRACING = {"enabled": True}
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
STACK_OUTPUTS = ("StateMachinePrefix", "JourneyExecutionRoleArn", "JourneySubstitutions", "JourneyLogging",
                 "JourneysBucketName")


class PublishError(RuntimeError):
    """A journey cannot be published as asked (the message names the journey, file or output)."""


@dataclass(frozen=True)
class JourneyStack:
    """What the stack provides to every journey (from its Outputs)."""

    prefix: str
    role_arn: str
    substitutions: dict
    logging: dict
    bucket: str

    @classmethod
    def from_outputs(cls, outputs: dict) -> "JourneyStack":
        missing = [k for k in STACK_OUTPUTS if not outputs.get(k)]
        if missing:
            raise PublishError(f"the stack has no output {', '.join(missing)}: deploy the current template.yaml "
                               "(it provides the journeys' role, substitutions, logging and registry bucket)")
        try:
            subs = json.loads(outputs["JourneySubstitutions"])
            logging = json.loads(outputs["JourneyLogging"])
        except ValueError as exc:
            raise PublishError(f"stack output JourneySubstitutions/JourneyLogging is not JSON ({exc})") from None
        return cls(outputs["StateMachinePrefix"], outputs["JourneyExecutionRoleArn"], subs, logging,
                   outputs["JourneysBucketName"])


@dataclass(frozen=True)
class Published:
    journey: str
    state_machine_arn: str
    version_arn: str
    alias_arn: str
    previous_version_arn: str | None
    changed: bool  # False: the live version already had this definition (nothing published)


def render(text: str, substitutions: dict, file: str) -> str:
    """The ASL with every ``${Name}`` replaced (as DefinitionSubstitutions would); an unknown one is an error."""
    unknown = sorted({m for m in _PLACEHOLDER.findall(text) if m not in substitutions})
    if unknown:
        raise PublishError(f"{file}: ${{{unknown[0]}}} is not a substitution the stack provides "
                           f"(known: {', '.join(sorted(substitutions))})")
    return _PLACEHOLDER.sub(lambda m: str(substitutions[m.group(1)]), text)


def definition(journey: Journey, folder: Path, stack: JourneyStack) -> str:
    path = Path(folder) / journey.file
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PublishError(f"journey {journey.name}: cannot read {path} ({exc.strerror})") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise PublishError(f"journey {journey.name}: {path} is not JSON ({exc}); run `polku journeys lint`") from None
    return render(text, stack.substitutions, journey.file)


def _missing(exc: Exception) -> bool:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("StateMachineDoesNotExist", "ResourceNotFound")


def live_version(sfn, journey: Journey, stack: JourneyStack) -> str | None:
    """The version ARN the journey's ``live`` alias routes new runs to (None: not published)."""
    from botocore.exceptions import ClientError

    try:
        alias = sfn.describe_state_machine_alias(stateMachineAliasArn=journey.live_arn(stack.prefix))
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    routes = alias.get("routingConfiguration") or []
    return max(routes, key=lambda r: r.get("weight", 0))["stateMachineVersionArn"] if routes else None


def _point_alias(sfn, journey: Journey, stack: JourneyStack, version_arn: str, exists: bool) -> None:
    routing = [{"stateMachineVersionArn": version_arn, "weight": 100}]
    if exists:
        sfn.update_state_machine_alias(stateMachineAliasArn=journey.live_arn(stack.prefix), routingConfiguration=routing)
    else:
        sfn.create_state_machine_alias(name=ALIAS, routingConfiguration=routing,
                                       description=f"the version new {journey.name} runs start on")


def publish(sfn, journey: Journey, text: str, stack: JourneyStack, description: str = "") -> Published:
    """Publish ``text`` (substituted ASL) as a new version of the journey's state machine and make it live."""
    from botocore.exceptions import ClientError

    base = journey.state_machine_arn(stack.prefix)
    current = live_version(sfn, journey, stack)
    if current is not None:
        live = sfn.describe_state_machine(stateMachineArn=current)
        logging = live.get("loggingConfiguration") or {}
        same_logging = all(logging.get(k, stack.logging.get(k)) == stack.logging.get(k)
                           for k in ("level", "includeExecutionData"))
        if live["definition"] == text and live["roleArn"] == stack.role_arn and same_logging:
            return Published(journey.name, base, current, journey.live_arn(stack.prefix), current, False)
    config = {"roleArn": stack.role_arn, "loggingConfiguration": stack.logging, "tracingConfiguration": TRACING,
              "publish": True}
    if description:
        config["versionDescription"] = description[:256]
    try:
        out = sfn.update_state_machine(stateMachineArn=base, definition=text, **config)
    except ClientError as exc:
        if not _missing(exc):
            raise
        out = sfn.create_state_machine(name=base.rsplit(":", 1)[1], definition=text, type="STANDARD", **config)
    version = out["stateMachineVersionArn"]
    _point_alias(sfn, journey, stack, version, exists=current is not None)
    return Published(journey.name, base, version, journey.live_arn(stack.prefix), current, True)


def rollback(sfn, journey: Journey, stack: JourneyStack) -> tuple[str, str]:
    """Point ``live`` at the version before the live one; (from, to) version ARNs."""
    from botocore.exceptions import ClientError

    current = live_version(sfn, journey, stack)
    if current is None:
        raise PublishError(f"journey {journey.name}: not published (no alias {ALIAS}); run `polku journeys publish`")
    base, number = current.rsplit(":", 1)
    for n in range(int(number) - 1, 0, -1):
        candidate = f"{base}:{n}"
        try:
            sfn.describe_state_machine(stateMachineArn=candidate)
        except ClientError as exc:
            if _missing(exc):
                continue  # a deleted version
            raise
        _point_alias(sfn, journey, stack, candidate, exists=True)
        return current, candidate
    raise PublishError(f"journey {journey.name}: version {number} is the first; there is nothing to roll back to")


def publish_registry(s3, registry_text: str, stack: JourneyStack) -> bool:
    """Put the registry where the trigger, scheduler, enrolment and Send read it; False when the
    published one is the same text already (no new object version)."""
    import yaml
    from botocore.exceptions import ClientError

    registry_mod.parse(yaml.safe_load(registry_text))  # never publish a registry readers would refuse
    body = registry_text.encode("utf-8")
    try:
        if s3.get_object(Bucket=stack.bucket, Key=REGISTRY_KEY)["Body"].read() == body:
            return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
    s3.put_object(Bucket=stack.bucket, Key=REGISTRY_KEY, Body=body, ContentType="application/yaml")
    registry_mod.forget_published()  # this process reads the new one at once (others within the cache age)
    return True


def load_folder(folder: Path) -> Registry:
    path = Path(folder) / "registry.yaml"
    if not path.is_file():
        raise PublishError(f"{path}: no registry.yaml in {folder}")
    return registry_mod.load(path)


def publish_all(sfn, s3, folder: Path, stack: JourneyStack, names: list[str] | None = None,
                description: str = "") -> list[Published]:
    """Publish the journeys ``names`` (default: all) of the registry in ``folder``, then the registry."""
    reg = load_folder(folder)
    journeys = [reg.get(n) for n in names] if names else list(reg.journeys.values())
    for j in reg.journeys.values():
        if j not in journeys and live_version(sfn, j, stack) is None:
            raise PublishError(f"journey {j.name} is in the registry but not published: publish it too "
                               "(new runs would start on an alias that does not exist)")
    texts = [(j, definition(j, folder, stack)) for j in journeys]  # every file readable before any is published
    out = [publish(sfn, j, text, stack, description) for j, text in texts]
    publish_registry(s3, (Path(folder) / "registry.yaml").read_text(encoding="utf-8"), stack)
    return out
