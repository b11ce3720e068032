"""What every Send step of every journey says: each step rendered for each A/B variant, channel
and locale with the sample data (``templates/_samples``), as the Send step renders it (the
step's stage, whether it carries an offer, the variant's declared template and subject).

Used by ``polku templates lint`` (every template renders for every step it is used in) and
``polku journeys lint`` (:func:`content_findings`: a split whose variants send the same
messages, two stages of one journey with the same subject). Pure apart from reading files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from polku.journeys.definition import Definition
from polku.journeys.registry import Journey, Registry

SEND_RESOURCE = "${SendFunctionArn}"
PREVIEW_LINKS = {"unsubscribe": "https://example.com/v1/unsubscribe/PREVIEW", "open_pixel": "https://example.com/v1/o/PREVIEW"}


@dataclass(frozen=True)
class SendStep:
    journey: str
    state: str
    template: str
    stage: str
    message_type: str = "journey"
    offer: bool = False
    include: tuple = ()


@dataclass
class Rendering:
    step: SendStep
    variant: str
    template: str  # the template actually rendered (the variant's, or the step's)
    channel: str
    locale: str
    subject: str = ""  # e-mail subject or push title
    text: str = ""  # e-mail text part, SMS or push body
    html: str = ""
    error: str | None = None


def send_steps(journey: Journey, folder: Path) -> list[SendStep]:
    """The journey's Send tasks (not the send_time action), in definition order."""
    d = Definition.parse((folder / journey.file).read_text(encoding="utf-8"))
    out = []
    for name, s in d.states.items():
        if not isinstance(s, dict) or s.get("Type") != "Task" or s.get("Resource") != SEND_RESOURCE:
            continue
        p = s.get("Parameters") or {}
        if p.get("action") or not isinstance(p.get("template"), str):
            continue
        ctx = p.get("context") or {}
        stage = ctx.get("stage") if isinstance(ctx.get("stage"), str) and ctx.get("stage") else "main"
        out.append(SendStep(journey.name, name, p["template"], stage, str(p.get("message_type") or "journey"),
                            "offer" in p or "offer.$" in p, tuple(p.get("include") or ())))
    return out


def load_json(path: Path) -> dict:
    value = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"{path}: must hold a JSON object")
    return value


def sample_for(root: Path, name: str) -> dict:
    """``_samples/default.json`` with ``_samples/<name>.json`` merged over it (one level deep)."""
    samples = Path(root) / "_samples"
    base = load_json(samples / "default.json") if (samples / "default.json").is_file() else {}
    own = samples / f"{name}.json"
    if own.is_file():
        for key, value in load_json(own).items():
            base[key] = {**base.get(key, {}), **value} if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return base


def preview_context(sample: dict, message: dict | None = None) -> dict:
    """A template context from a sample (preview links, no signing)."""
    from polku.messaging.message_context import build_context, preview_track

    data = sample.get("data") or {}
    return build_context(
        customer=sample.get("customer") or {},
        products=sample.get("products") or [],
        offer=sample.get("offer"),
        data=data,
        brand=sample.get("brand"),
        links=PREVIEW_LINKS,
        message={"id": "m_preview", "journey": "preview", "step": "Preview", "variant": "A", "type": "journey",
                 "stage": data.get("stage") or "main", **(sample.get("message") or {}), **(message or {})},
        track=preview_track,
        editable_overrides=sample.get("editable") or {},
    )


def step_context(store, step: SendStep, variant: str) -> dict:
    sample = dict(sample_for(store.root, step.template))
    sample["data"] = {**(sample.get("data") or {}), "stage": step.stage}
    if not step.offer:
        sample["offer"] = None
    return preview_context(sample, {"journey": step.journey, "step": step.state, "variant": variant,
                                    "type": step.message_type, "stage": step.stage})


def render_step(store, journey: Journey, step: SendStep, variant: str, channel: str, locale: str) -> Rendering:
    from polku.messaging.send_message import apply_variant_subject
    from polku.messaging.templating import TemplateRenderError

    declared = journey.variant(variant)
    template = declared.template or step.template
    out = Rendering(step, variant, template, channel, locale)
    try:
        r = store.render(template, step_context(store, step, variant), channel=channel, locale=locale)
    except TemplateRenderError as exc:
        out.error = str(exc)
        return out
    apply_variant_subject(r, declared, step.stage)
    p = r.parts
    out.subject = p.get("subject") or p.get("push_title") or ""
    out.text = p.get("text") or p.get("sms") or p.get("push_body") or ""
    out.html = p.get("html") or ""
    return out


@dataclass
class Matrix:
    renderings: list[Rendering] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # unreadable definitions, unknown templates


def render_all(store, registry: Registry, folder: Path, journeys: list[str] | None = None) -> Matrix:
    """Every Send step of every (or the named) journey x variant x channel x locale."""
    m = Matrix()
    known = set(store.message_names())
    for journey in registry.journeys.values():
        if journeys is not None and journey.name not in journeys:
            continue
        try:
            steps = send_steps(journey, folder)
        except (OSError, ValueError) as exc:
            m.errors.append(f"{journey.file}: cannot read the Send steps ({exc})")
            continue
        for step in steps:
            for variant in sorted(journey.split):
                template = journey.variant(variant).template or step.template
                if template not in known:
                    m.errors.append(f"{journey.file}: state {step.state} (variant {variant}): no message template {template!r}")
                    continue
                for locale in store.locales(template):
                    for channel in store.channels(template, locale):
                        m.renderings.append(render_step(store, journey, step, variant, channel, locale))
    return m


def content_findings(matrix: Matrix, registry: Registry) -> list[str]:
    """What a marketer would call wrong content: a split whose variants send the same
    messages in every step, and two stages of one journey with the same subject."""
    out = [r for r in matrix.errors]
    for r in matrix.renderings:
        if r.error:
            out.append(f"{r.step.journey}: state {r.step.state} variant {r.variant} {r.channel}/{r.locale}: {r.error}")
    by_journey: dict[str, list[Rendering]] = {}
    for r in matrix.renderings:
        if not r.error:
            by_journey.setdefault(r.step.journey, []).append(r)
    for name, rows in by_journey.items():
        journey = registry.get(name)
        untranslated = sorted({(r.variant, r.step.stage, r.locale) for r in rows
                               if (texts := journey.variant(r.variant).subjects(r.step.stage)) and r.locale not in texts})
        for variant, stage, locale in untranslated:
            out.append(f"{name}: variant {variant} declares a subject for stage {stage} but none in {locale}: its "
                       f"{locale} customers would get the template's own subject, as in the other variants -- fix: "
                       f"variants: {{{variant}: {{subject: {{{stage}: {{{locale}: TEXT, ...}}}}}}}} in "
                       "statemachines/registry.yaml")
        if len(journey.split) > 1:
            seen: dict[tuple, set] = {}
            for r in rows:
                seen.setdefault((r.step.state, r.channel, r.locale), set()).add((r.subject, r.text, r.html))
            if seen and all(len(v) == 1 for v in seen.values()):
                out.append(f"{name}: the split {', '.join(sorted(journey.split))} sends the same messages in every step "
                           "(nothing to measure) -- fix: declare how the variants differ in statemachines/registry.yaml "
                           "(variants: {B: {subject: {STAGE: TEXT}}} or {B: {template: NAME}})")
        subjects: dict[tuple, dict[str, str]] = {}
        for r in rows:
            if r.channel == "email":
                subjects.setdefault((r.variant, r.locale, r.subject), {})[r.step.stage] = r.step.state
        for (variant, locale, subject), stages in sorted(subjects.items()):
            if len(stages) > 1:
                states = ", ".join(sorted(stages.values()))
                out.append(f"{name}: steps {states} (stages {', '.join(sorted(stages))}) share the subject {subject!r} "
                           f"(variant {variant}, {locale}) -- fix: give each stage its own subject in the template "
                           "(branch on message.stage)")
    return out
