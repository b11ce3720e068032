"""Every shipped journey speaks every locale the templates have shared words for
(``templates/_locales/*.json``: en, fi, cs).

Each Send step of each journey (read from its ASL file in ``statemachines/``, as
``polku templates lint`` reads them), for each A/B variant and each channel the en message
has, renders for fi and cs from that locale's own file -- never from the en fallback -- with
the same channels, and says something else than the en message (a copied en file is caught).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from polku.journeys import registry
from polku.journeys.content import send_steps, step_context
from polku.messaging.send_message import apply_variant_subject
from polku.messaging.templating import DEFAULT_LOCALE, TemplateRenderError, TemplateStore

REPO = Path(__file__).resolve().parents[2]
STATEMACHINES = REPO / "statemachines"


# the parts a message writes in its own words (the e-mail's text and HTML also hold the shared words
# of the locale, so they differ even when a message's own words were not translated)
WORDED_PARTS = ("subject", "preheader", "sms", "push_title", "push_body", "web_title", "web_body")


def _parts(store, journey, step, variant, channel, locale) -> dict | str:
    """The rendered parts of a Send step as the Send step renders them (or the render error)."""
    declared = journey.variant(variant)
    try:
        r = store.render(declared.template or step.template, step_context(store, step, variant), channel=channel,
                         locale=locale)
    except TemplateRenderError as exc:
        return str(exc)
    apply_variant_subject(r, declared, step.stage)
    return r.parts


def locale_gaps(store: TemplateStore, locales: list[str]) -> list[str]:
    """What a customer of ``locales`` would get in another language, one line per step x variant x
    locale (x channel), naming the journey, the state and the file that is missing or untranslated."""
    reg = registry.load()
    gaps: list[str] = []
    for journey in reg.journeys.values():
        for step in send_steps(journey, STATEMACHINES):
            for variant in sorted(journey.split):
                declared = journey.variant(variant)
                template = declared.template or step.template
                where = f"{journey.name}/{step.state} (stage {step.stage}, variant {variant})"
                en_channels = store.channels(template, DEFAULT_LOCALE)
                for locale in locales:
                    _, used = store.resolve(template, locale)
                    if used != locale:
                        gaps.append(f"{where}: messages/{template}/{locale}.j2 is missing, a {locale} customer "
                                    f"gets the {used} message")
                        continue
                    channels = store.channels(template, locale)
                    if channels != en_channels:
                        gaps.append(f"{where}: messages/{template}/{locale}.j2 has channels {channels}, "
                                    f"{DEFAULT_LOCALE}.j2 has {en_channels}")
                    for channel in en_channels:
                        en, loc = (_parts(store, journey, step, variant, channel, lo) for lo in (DEFAULT_LOCALE, locale))
                        if isinstance(en, str) or isinstance(loc, str):
                            gaps.append(f"{where} {channel}/{locale}: {loc if isinstance(loc, str) else en}")
                            continue
                        same = [k for k in WORDED_PARTS if en.get(k) and loc.get(k) == en.get(k)]
                        if same:
                            gaps.append(f"{where} {channel}/{locale}: {', '.join(same)} the same as {DEFAULT_LOCALE} "
                                        f"({en[same[0]]!r})")
    return gaps


def other_locales(store: TemplateStore) -> list[str]:
    return sorted(set(store.words) - {DEFAULT_LOCALE})


def test_every_send_step_of_every_shipped_journey_renders_in_finnish_and_czech_from_its_own_file():
    store = TemplateStore(REPO / "templates")
    locales = other_locales(store)
    assert {"fi", "cs"} <= set(locales), locales
    steps = [s for j in registry.load().journeys.values() for s in send_steps(j, STATEMACHINES)]
    assert len({s.template for s in steps}) >= 9  # every shipped journey's template is checked
    assert locale_gaps(store, locales) == []


def test_the_check_finds_a_missing_locale_file_and_an_untranslated_copy(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(REPO / "templates", root)
    (root / "messages" / "birthday" / "fi.j2").unlink()
    shutil.copy(root / "messages" / "nurture" / "en.j2", root / "messages" / "nurture" / "cs.j2")
    gaps = locale_gaps(TemplateStore(root), ["fi", "cs"])
    assert any(g.startswith("birthday/SendBirthday") and "messages/birthday/fi.j2 is missing" in g
               and "gets the en message" in g for g in gaps), gaps
    assert any(g.startswith("nurture/SendLesson2") and "email/cs: subject, preheader the same as en" in g for g in gaps), gaps
    assert all(g.startswith(("birthday/", "nurture/")) for g in gaps), gaps
