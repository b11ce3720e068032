"""A Finnish or Czech customer of a journey gets the journey in their language, as a marketer
checks it: the birthday greeting (the real ASL, handlers and twin; the e-mail and SMS read as
the providers accepted them) for customers whose profile locale is ``fi`` or ``cs`` carries a
subject and body in that language -- not one word of the English template, and the discount the
offer function granted ("20 % off") in their words in the offer box too -- with the code and its
expiry written the local way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from tests.acceptance.outcomes import date_shown

REPO = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[^\W\d_]{4,}")  # words of four letters or more (short ones are shared: "on", "a")


def english_words(template: str) -> set[str]:
    """The words the en message writes itself: its text and the string literals it passes to the
    layout's building blocks (headings, button labels), without markup."""
    ast = Environment().parse((REPO / "templates" / "messages" / template / "en.j2").read_text(encoding="utf-8"))
    texts = [n.data for n in ast.find_all(nodes.TemplateData)]
    texts += [c.value for call in ast.find_all(nodes.Call) for c in call.find_all(nodes.Const) if isinstance(c.value, str)]
    plain = re.sub(r"<[^>]*>", " ", " ".join(texts))
    return {w.lower() for w in WORD.findall(plain)} - {"layouts", "brand", "intro"}


def english_in(content: str, words: set[str]) -> list[str]:
    visible = re.sub(r"https?://\S+", " ", re.sub(r"<[^>]*>", " ", content))
    return sorted({w for w in WORD.findall(visible) if w.lower() in words})


@pytest.fixture(scope="module")
def cast(journey):
    j = journey("birthday")
    people = {
        "finnish": j.person("aino", first_name="Aino", locale="fi", birthday="1990-01-06"),
        "finnish_sms": j.person("sami", first_name="Sami", locale="fi", prefers="sms", birthday="1979-01-06"),
        "czech": j.person("tomas", first_name="Tomáš", locale="cs", birthday="1988-01-06"),
        "english": j.person("grace", first_name="Grace", birthday="1992-01-06"),
    }
    lines = [p.identify("2026-01-05T07:00:00Z") for p in people.values()]
    return j.cast(people, lines, until="2026-01-07T00:00:00Z")


def test_the_english_words_are_found_in_the_english_customers_mail(cast):
    """The check below can fail: the en mail is full of the en template's words."""
    o = cast["english"]
    assert o.channels == ["email"], o
    found = english_in(o.messages[0].content, english_words("birthday"))
    assert {"Happy", "birthday"} <= set(found), found
    assert "20 % off (Code: BDAY20)" in o.messages[0].text  # the offer function's own title, as it was


def test_a_finnish_customer_who_prefers_sms_gets_a_finnish_sms_with_the_code_and_its_expiry(cast):
    o = cast["finnish_sms"]
    assert o.channels == ["sms"], o
    text = o.messages[0].text
    assert "hyvää syntymäpäivää, Sami!" in text and "koodi BDAY20" in text and "Lopeta: vastaa STOP" in text, text
    assert date_shown(o.granted()[0].valid_until.astimezone(o.zone).date(), text), text
    assert english_in(text, english_words("birthday")) == [], text


@pytest.mark.parametrize("label, lang, subject, body", [
    ("finnish", "fi", ["Hyvää syntymäpäivää, Aino!", "20 % alennus sinulle"],
     ["Hei Aino,", "20 % alennus (Koodi: BDAY20), voimassa {d.day}.{d.month}.{d.year}", "Peru tilaus"]),
    ("czech", "cs", ["Všechno nejlepší k narozeninám, Tomáš!", "Sleva 20 % pro vás"],
     ["Dobrý den Tomáš,", "Sleva 20 % (Kód: BDAY20), platí do {d.day}.{d.month}.{d.year}", "Odhlásit odběr"]),
])
def test_a_finnish_or_czech_customer_gets_the_birthday_mail_in_their_language(cast, label, lang, subject, body):
    o = cast[label]
    assert o.channels == ["email"], o
    m = o.messages[0]
    until = o.granted()[0].valid_until.astimezone(o.zone).date()
    assert all(s in m.subject for s in subject), o
    assert all(b.format(d=until) in m.text for b in body), m.text  # the offer box in their words too
    assert "% off" not in m.content, m.content
    for part in (m.subject, m.text, m.html):
        assert english_in(part, english_words("birthday")) == [], part
    assert f'<html lang="{lang}">' in m.html


# ---------------------------------------------------------------- A/B subjects in the customer's language
@pytest.fixture(scope="module")
def welcome_cast(journey):
    j = journey("welcome")
    people = {
        "fi_b": j.person("liisa", first_name="Liisa", locale="fi", variant="B"),
        "cs_b": j.person("jana", first_name="Jana", locale="cs", variant="B"),
        "fi_a": j.person("eero", first_name="Eero", locale="fi", variant="A"),
    }
    lines = []
    for p in people.values():
        lines += [p.identify("2026-01-05T07:30:00Z"), p.event("form_submit", "2026-01-05T08:00:00Z", form_id="signup")]
    return j.cast(people, lines, until="2026-01-06T00:00:00Z")


def test_variant_b_of_the_welcome_reaches_finnish_and_czech_customers_with_its_subject_in_their_language(welcome_cast):
    """The registry's B subject replaces the template's, in the customer's language: a Finnish B
    customer neither gets the English B line nor the Finnish A subject (which would spoil the test)."""
    fi_b, cs_b, fi_a = (welcome_cast[k].messages[0] for k in ("fi_b", "cs_b", "fi_a"))
    assert fi_b.subject == "Mukava, että olet mukana - muutama poiminta alkuun", welcome_cast["fi_b"]
    assert cs_b.subject == "Jsme rádi, že jste s námi - pár tipů na začátek", welcome_cast["cs_b"]
    assert fi_a.subject != fi_b.subject and "Eero" in fi_a.subject + fi_a.text, welcome_cast["fi_a"]
    assert english_in(fi_b.subject, {"good", "with", "picks", "start"}) == []
