"""The journey registry: which journeys exist, what starts and stops them, who may enrol.

One YAML file beside the definitions (``statemachines/registry.yaml``), validated
here into typed entries. Pure: no AWS calls. ``load()`` raises
:class:`RegistryError` naming the journey and field at fault.
"""

from __future__ import annotations

import datetime as _dt
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from polku.journeys.conditions import ConditionError, check_matcher
from polku.locales import DEFAULT_LOCALE

REENTRY_POLICIES = ("once", "cooldown")
SCHEDULES = ("hourly", "daily")
ROLES = ("marketing", "sales", "service", "partner")
# enrollable_by may also name one partner: ``partner:<partner id>`` (docs/distributed-marketing.md)
PARTNER_GROUP = re.compile(r"partner:[A-Za-z0-9._@+-]{1,64}")
_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
_HOUR = re.compile(r"^([01][0-9]|2[0-3]):00$")


class RegistryError(ValueError):
    """The registry file is invalid (message names the journey and the field)."""


@dataclass(frozen=True)
class Trigger:
    event: str | None = None  # real-time: the tracking event type
    where: dict = field(default_factory=dict)  # real-time: property filter (paths into the event)
    schedule: str | None = None  # scheduled: hourly | daily
    at: str = "09:00"  # scheduled daily: UTC hour
    profile: dict = field(default_factory=dict)  # scheduled: profile condition

    @property
    def scheduled(self) -> bool:
        return self.schedule is not None

    def due(self, when: _dt.datetime) -> bool:
        """Is a scheduled trigger due in the hour starting at ``when``?"""
        if self.schedule == "hourly":
            return True
        return self.schedule == "daily" and when.hour == int(self.at[:2])


@dataclass(frozen=True)
class Reentry:
    policy: str = "once"
    cooldown_hours: float = 0.0


@dataclass(frozen=True)
class Variant:
    """How one A/B variant's messages differ (``variants:`` in the registry).

    ``template``: this variant's Send steps render another message template;
    ``subject``: stage -> {locale: subject line} (e-mail subject and push title) for the Send
    steps of that stage (``"*"``: every stage without its own). A line given as plain text in the
    registry is the default locale's (en)."""

    template: str | None = None
    subject: dict = field(default_factory=dict)

    def subjects(self, stage: str | None) -> dict[str, str]:
        """locale -> the subject line this variant declares for ``stage`` (empty: none)."""
        return self.subject.get(stage or "main") or self.subject.get("*") or {}

    def subject_for(self, stage: str | None, locale: str) -> str | None:
        """The declared subject line in ``locale``, or None (the template's own subject stays)."""
        return self.subjects(stage).get(locale)


@dataclass(frozen=True)
class Journey:
    name: str
    file: str
    state_machine: str  # the state machine name without the polku-<stage>- prefix
    description: str
    trigger: Trigger
    goal: tuple[str, ...] = ()
    exit: tuple[str, ...] = ()
    reentry: Reentry = Reentry()
    split: dict = field(default_factory=lambda: {"A": 1.0})
    holdout: float = 0.0
    active: bool = True
    enrollable_by: tuple[str, ...] = ()
    enroll_requires: tuple[str, ...] = ()  # properties a hand enrolment must give (the trigger's properties)
    variants: dict = field(default_factory=dict)  # variant -> Variant (how the split's messages differ)
    # Start only for customers some channel reaches (polku.messaging.reachability)? None: not said,
    # which is yes; ``polku journeys lint`` asks for an explicit value when the ASL cannot send
    # before an event wait (docs/journeys.md, "Who may start a journey").
    requires_reachable: bool | None = None

    @property
    def starts_only_reachable(self) -> bool:
        return self.requires_reachable is not False

    def variant(self, name: str | None) -> Variant:
        """The declared difference of variant ``name`` (an empty Variant: the step's own content)."""
        return self.variants.get(name) or Variant()

    def state_machine_arn(self, prefix: str) -> str:
        """The state machine (unqualified): its executions, whichever version they run."""
        return prefix + self.state_machine

    def live_arn(self, prefix: str) -> str:
        """The alias new runs start on (polku.journeys.publish points it at the published version)."""
        return live_arn(prefix, self.state_machine)


LIVE_ALIAS = "live"


def live_arn(prefix: str, state_machine: str) -> str:
    """``<prefix><state_machine>:live``: the alias every new run of a journey starts on."""
    return f"{prefix}{state_machine}:{LIVE_ALIAS}"


@dataclass(frozen=True)
class Registry:
    journeys: dict[str, Journey]
    path: Path | None = None

    def get(self, name: str) -> Journey:
        if name not in self.journeys:
            raise RegistryError(f"no journey {name!r} in the registry; known: {', '.join(sorted(self.journeys))}")
        return self.journeys[name]

    def active(self) -> list[Journey]:
        return [j for j in self.journeys.values() if j.active]

    def by_state_machine(self, state_machine: str) -> Journey | None:
        for j in self.journeys.values():
            if j.state_machine == state_machine:
                return j
        return None

    def only(self, *names: str) -> "Registry":
        """A registry in which only ``names`` are active (the simulator runs one journey)."""
        out = {}
        for n, j in self.journeys.items():
            out[n] = _replace(j, active=n in names)
        for n in names:
            self.get(n)
        return Registry(out, self.path)


def _replace(j: Journey, **changes) -> Journey:
    import dataclasses

    return dataclasses.replace(j, **changes)


def default_path() -> Path:
    """statemachines/registry.yaml of the repository (or a copy shipped beside this module)."""
    packaged = Path(__file__).with_name("registry.yaml")
    if packaged.is_file():
        return packaged
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "statemachines" / "registry.yaml"
        if candidate.is_file():
            return candidate
    raise RegistryError("statemachines/registry.yaml not found")


def _fail(journey: str, fld: str, why: str) -> RegistryError:
    return RegistryError(f"registry: journey {journey!r}, field {fld}: {why}")


def _events(name: str, fld: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(name, fld, "must be a list of event types")
    return tuple(value)


def _filter(name: str, fld: str, value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(name, fld, "must be a mapping of path: matcher")
    for path, matcher in value.items():
        try:
            check_matcher(path, matcher)
        except ConditionError as exc:
            raise _fail(name, fld, str(exc)) from None
    return dict(value)


_KNOWN_KEYS = {
    "file", "state_machine", "description", "trigger", "goal", "exit", "reentry",
    "split", "holdout", "active", "enrollable_by", "variants", "enroll_requires", "requires_reachable",
}
_VARIANT_KEYS = ("template", "subject")
_TEMPLATE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SUBJECT = 200
_LOCALE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")  # as a template file name: en, fi, pt-br
PROPERTY = re.compile(r"[a-z][a-z0-9_]{0,39}")  # a property name an enrolment passes to the journey


def _variants(name: str, raw: Any, split: dict) -> dict:
    """``variants: {A: {...}, B: {template: x, subject: {stage: text}}}`` -> Variant per name."""
    if raw is None:
        if len(split) > 1:
            raise _fail(name, "variants", f"a split of {len(split)} variants must declare how their messages differ: "
                        "variants: {B: {subject: {STAGE: TEXT}}} or {B: {template: NAME}}")
        return {}
    if not isinstance(raw, dict):
        raise _fail(name, "variants", "must be a mapping of variant: {template, subject}")
    out = {}
    for v, spec in raw.items():
        v = str(v)
        fld = f"variants.{v}"
        if v not in split:
            raise _fail(name, fld, f"no such variant in split (variants: {', '.join(sorted(split))})")
        spec = spec or {}
        if not isinstance(spec, dict):
            raise _fail(name, fld, "must be a mapping with template and/or subject")
        unknown = sorted(set(spec) - set(_VARIANT_KEYS))
        if unknown:
            raise _fail(name, f"{fld}.{unknown[0]}", f"unknown field; known: {', '.join(_VARIANT_KEYS)}")
        template = spec.get("template")
        if template is not None and (not isinstance(template, str) or not _TEMPLATE.match(template)):
            raise _fail(name, f"{fld}.template", "a message template name (templates/messages/<name>/)")
        subject = spec.get("subject", {})
        if not isinstance(subject, dict):
            raise _fail(name, f"{fld}.subject", "a mapping of stage: subject line (\"*\" for every stage)")
        out[v] = Variant(template=template, subject={str(stage): _subject_lines(name, f"{fld}.subject.{stage}", text)
                                                     for stage, text in subject.items()})
    return out


def _subject_lines(name: str, where: str, value: Any) -> dict[str, str]:
    """A stage's subject: one line (the default locale's, en) or {locale: line} -> {locale: line}."""
    lines = value if isinstance(value, dict) else {DEFAULT_LOCALE: value}
    if not lines:
        raise _fail(name, where, "a subject line, or a mapping of locale: subject line")
    out = {}
    for locale, text in lines.items():
        at = f"{where}.{locale}" if isinstance(value, dict) else where
        if not isinstance(locale, str) or not _LOCALE.match(locale):
            raise _fail(name, at, "a locale such as en, fi or cs (the template's file name)")
        if not isinstance(text, str) or not text.strip():
            raise _fail(name, at, "a non-empty subject line")
        if len(text) > MAX_SUBJECT or "\n" in text or "\r" in text:
            raise _fail(name, at, f"one line of at most {MAX_SUBJECT} characters")
        if "{" in text:
            raise _fail(name, at, "plain text: no { } placeholders (personalise in the template)")
        out[locale] = text.strip()
    return out


def parse_journey(name: str, raw: Any) -> Journey:
    if not _NAME.match(str(name)):
        raise _fail(str(name), "name", "use lower-case letters, digits and _ (2-41 characters)")
    if not isinstance(raw, dict):
        raise _fail(name, "-", "must be a mapping")
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise _fail(name, unknown[0], f"unknown field; known fields: {', '.join(sorted(_KNOWN_KEYS))}")
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _fail(name, "description", "required (one line for marketers)")
    file = raw.get("file", f"{name}.asl.json")
    if not isinstance(file, str) or not file.endswith(".asl.json"):
        raise _fail(name, "file", "must name a .asl.json file in statemachines/")

    t = raw.get("trigger")
    if not isinstance(t, dict):
        raise _fail(name, "trigger", "required: {event, where} or {schedule, profile}")
    if ("event" in t) == ("schedule" in t):
        raise _fail(name, "trigger", "give exactly one of event (real-time) or schedule (hourly|daily)")
    if "event" in t:
        if not isinstance(t["event"], str) or not t["event"]:
            raise _fail(name, "trigger.event", "must be an event type")
        extra = sorted(set(t) - {"event", "where"})
        if extra:
            raise _fail(name, f"trigger.{extra[0]}", "unknown field for an event trigger (event, where)")
        trigger = Trigger(event=t["event"], where=_filter(name, "trigger.where", t.get("where")))
    else:
        if t["schedule"] not in SCHEDULES:
            raise _fail(name, "trigger.schedule", f"must be one of {', '.join(SCHEDULES)}")
        at = str(t.get("at", "09:00"))
        if not _HOUR.match(at):
            raise _fail(name, "trigger.at", "must be a whole UTC hour like 09:00")
        extra = sorted(set(t) - {"schedule", "at", "profile"})
        if extra:
            raise _fail(name, f"trigger.{extra[0]}", "unknown field for a scheduled trigger (schedule, at, profile)")
        profile = _filter(name, "trigger.profile", t.get("profile"))
        if not profile:
            raise _fail(name, "trigger.profile", "a scheduled journey needs a profile condition (who enters)")
        trigger = Trigger(schedule=t["schedule"], at=at, profile=profile)

    r = raw.get("reentry", {"policy": "once"})
    if isinstance(r, str):
        r = {"policy": r}
    if not isinstance(r, dict) or r.get("policy") not in REENTRY_POLICIES:
        raise _fail(name, "reentry.policy", f"must be one of {', '.join(REENTRY_POLICIES)}")
    hours = r.get("cooldown_hours", 0)
    if r["policy"] == "cooldown":
        if not isinstance(hours, (int, float)) or isinstance(hours, bool) or hours <= 0:
            raise _fail(name, "reentry.cooldown_hours", "a cooldown needs a positive number of hours")
    elif "cooldown_hours" in r:
        raise _fail(name, "reentry.cooldown_hours", "only applies to policy cooldown")
    reentry = Reentry(r["policy"], float(hours))

    split = raw.get("split", {"A": 1.0})
    if (
        not isinstance(split, dict)
        or not split
        or not all(isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for k, v in split.items())
        or abs(sum(split.values()) - 1.0) > 1e-9
    ):
        raise _fail(name, "split", "variant: share mapping whose shares are >= 0 and sum to 1")
    holdout = raw.get("holdout", 0.0)
    if not isinstance(holdout, (int, float)) or isinstance(holdout, bool) or not 0 <= holdout < 1:
        raise _fail(name, "holdout", "a share in [0, 1)")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise _fail(name, "active", "true or false")
    roles = raw.get("enrollable_by", [])
    if not isinstance(roles, list) or any(
            r not in ROLES and not (isinstance(r, str) and PARTNER_GROUP.fullmatch(r)) for r in roles):
        raise _fail(name, "enrollable_by", f"a list of roles from {', '.join(ROLES)} or partner:<partner id>")
    requires = raw.get("enroll_requires", [])
    if not isinstance(requires, list) or any(not isinstance(r, str) or not PROPERTY.fullmatch(r) for r in requires):
        raise _fail(name, "enroll_requires", "a list of property names (a-z, 0-9, _) an enrolment must give")
    reach = raw.get("requires_reachable")
    if reach is not None and not isinstance(reach, bool):
        raise _fail(name, "requires_reachable", "true (start only for customers a consented channel reaches) or false")
    goal = _events(name, "goal", raw.get("goal"))
    exit_ = _events(name, "exit", raw.get("exit"))
    if trigger.event and trigger.event in goal:
        raise _fail(name, "goal", f"{trigger.event} is also the trigger; a run would stop as it starts")
    sm = raw.get("state_machine", name.replace("_", "-"))
    if not isinstance(sm, str) or not re.match(r"^[a-z][a-z0-9-]+$", sm):
        raise _fail(name, "state_machine", "the state machine name after polku-<stage>- (a-z, 0-9, -)")
    return Journey(
        name=name,
        file=file,
        state_machine=sm,
        description=description.strip(),
        trigger=trigger,
        goal=goal,
        exit=exit_,
        reentry=reentry,
        split={k: float(v) for k, v in split.items()},
        holdout=float(holdout),
        active=active,
        enrollable_by=tuple(roles),
        enroll_requires=tuple(requires),
        variants=_variants(name, raw.get("variants"), split),
        requires_reachable=reach,
    )


def parse(data: Any, path: Path | None = None) -> Registry:
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("journeys"), dict):
        raise RegistryError("registry: expected `version: 1` and a `journeys:` mapping")
    journeys = {str(n): parse_journey(str(n), raw) for n, raw in data["journeys"].items()}
    files = {}
    for j in journeys.values():
        if j.file in files:
            raise _fail(j.name, "file", f"{j.file} is already used by {files[j.file]}")
        files[j.file] = j.name
    return Registry(journeys, path)


def load(path: Path | str | None = None) -> Registry:
    p = Path(path) if path else default_path()
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{p}: not valid YAML ({exc})") from None
    return parse(data, p)


# -- the registry this process uses ---------------------------------------------
# The published registry (polku.journeys.publish) is read from JOURNEY_REGISTRY_BUCKET when the
# function has one, at most once per PUBLISHED_MAX_AGE seconds (monotonic: a virtual clock's jumps
# do not refetch it); otherwise the file beside the definitions. ``use()`` overrides both.
PUBLISHED_MAX_AGE = 60.0
PUBLISHED_KEY = "registry.yaml"
_lock = threading.Lock()
_installed: Registry | None = None
_file: Registry | None = None
_published: dict = {}  # cache scope -> (fetched at, ETag, registry)
_scope = lambda: None  # noqa: E731 - one cache per process, as in a Lambda container
_max_age = PUBLISHED_MAX_AGE


def set_cache_scope(scope, max_age: float | None = None) -> None:
    """``scope()`` names whose cache a read uses. The twin runs every function in one process and
    gives each its own cache (``lambda_runtime.current_function``), as each has its container on AWS,
    and may keep it shorter (``max_age`` seconds: a journey published to ``polku local`` starts at once)."""
    global _scope, _max_age
    _scope = scope or (lambda: None)
    _max_age = PUBLISHED_MAX_AGE if max_age is None else max_age


def current() -> Registry:
    """The registry in force: installed by ``use()``, else the published one, else the file."""
    global _file
    with _lock:
        if _installed is not None:
            return _installed
    from polku.settings import get_settings

    bucket = get_settings().journey_registry_bucket
    if bucket:
        return _read_published(bucket)
    with _lock:
        if _file is None:
            _file = load()
        return _file


def _read_published(bucket: str) -> Registry:
    import logging
    import time

    key = _scope()
    with _lock:
        cached = _published.get(key)
    if cached is not None and time.monotonic() - cached[0] < _max_age:
        return cached[2]
    from polku import aws_clients

    try:
        obj = aws_clients.client("s3").get_object(Bucket=bucket, Key=PUBLISHED_KEY)
        etag = obj.get("ETag", "")
        if cached is not None and etag and etag == cached[1]:
            reg = cached[2]
        else:
            text = obj["Body"].read().decode("utf-8")
            reg = parse(yaml.safe_load(text), Path(f"s3://{bucket}/{PUBLISHED_KEY}"))
    except Exception as exc:  # noqa: BLE001 - keep the last good registry rather than stop every journey
        if cached is None:
            raise RegistryError(f"cannot read the published journey registry s3://{bucket}/{PUBLISHED_KEY}: {exc}") from exc
        logging.getLogger(__name__).warning("journey registry: keeping the last one read (%s)", exc)
        etag, reg = cached[1], cached[2]
    with _lock:
        _published[key] = (time.monotonic(), etag, reg)
    return reg


def forget_published() -> None:
    """Read the published registry again on next use (this process has just published one)."""
    with _lock:
        _published.clear()


def use(registry: Registry | None) -> Registry | None:
    """Install ``registry`` process-wide (the simulator activates one journey); returns the previous one."""
    global _installed
    with _lock:
        previous, _installed = _installed, registry
        return previous
