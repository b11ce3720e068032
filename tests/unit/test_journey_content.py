"""What customers read: the cart a message shows, content per step and variant, the registry's
declared A/B difference and the lint rules that guard them (issue 15, points 3, 4 and 6)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from polku.cli.main import main
from polku.journeys import registry
from polku.journeys.content import content_findings, render_all, send_steps
from polku.messaging.journey_data import cart_from_events, enrich
from polku.messaging.send_message import SendInput, SendInputError
from polku.messaging.templating import TemplateStore

REPO = Path(__file__).resolve().parents[2]
STORE = TemplateStore(REPO / "templates")
CATALOG = {
    "p1": {"name": "Organic Baby Spinach", "price": 2.79, "image_url": "https://cdn.example.com/p1.png",
           "url": "https://shop.example.com/p/p1", "category": "greens"},
    "p2": {"name": "Sourdough Loaf", "price": 4.5, "url": "https://shop.example.com/p/p2"},
}


def ev(kind, ts, **props):
    return {"type": kind, "client_ts": ts, "properties": props}


# ---------------------------------------------------------------- the cart (point 3)
def test_the_cart_is_folded_from_adds_removes_and_purchases():
    events = [
        ev("add_to_cart", "2026-01-05T10:00:00Z", product_id="p0", quantity=1),
        ev("purchase", "2026-01-05T10:30:00Z", items=[{"product_id": "p0", "quantity": 1}]),  # bought: gone
        ev("add_to_cart", "2026-01-05T11:00:00Z", product_id="p1", quantity=1, price=2.5),
        ev("add_to_cart", "2026-01-05T11:05:00Z", product_id="p2", quantity=1),
        ev("add_to_cart", "2026-01-05T11:06:00Z", product_id="p1", quantity=2),
        ev("add_to_cart", "2026-01-05T11:07:00Z", product_id="p3", quantity=1),
        ev("remove_from_cart", "2026-01-05T11:08:00Z", product_id="p3"),
    ]
    assert cart_from_events(list(reversed(events))) == [
        {"product_id": "p1", "quantity": 3, "price": 2.5}, {"product_id": "p2", "quantity": 1}]


def test_cart_lines_carry_catalogue_names_prices_images_links_and_a_total():
    data = enrich({"stage": "reminder", "trigger": {"properties": {"product_id": "p1"}}}, ["cart"],
                  events=lambda: [ev("add_to_cart", "2026-01-05T11:00:00Z", product_id="p1", quantity=2),
                                  ev("add_to_cart", "2026-01-05T11:01:00Z", product_id="p2", quantity=1)],
                  catalog=lambda ids: {i: CATALOG[i] for i in ids if i in CATALOG})
    assert [(i["name"], i["price"], i["quantity"]) for i in data["cart_items"]] == [
        ("Organic Baby Spinach", 2.79, 2), ("Sourdough Loaf", 4.5, 1)]
    assert data["cart_items"][0]["image_url"] == "https://cdn.example.com/p1.png"
    assert data["cart_items"][0]["url"] == "https://shop.example.com/p/p1"
    assert (data["cart_count"], data["cart_total"]) == (3, 10.08)
    assert data["stage"] == "reminder"


def test_without_history_the_triggers_product_is_the_cart_and_the_viewed_product_is_named():
    ctx = {"trigger": {"properties": {"product_id": "p2", "quantity": 1, "price": 4.0, "event_name": "Tasting"}}}
    data = enrich(ctx, ["cart", "viewed_product"], events=lambda: [], catalog=lambda ids: {})
    assert [(i["product_id"], i["name"], i["price"]) for i in data["cart_items"]] == [("p2", "p2", 4.0)]
    assert data["viewed_product"]["product_id"] == "p2" and data["viewed_items"] == [data["viewed_product"]]
    assert data["event_name"] == "Tasting"  # trigger details reach every template


def test_send_input_include_names_the_field():
    base = {"customer_id": "c", "journey": "j", "step": "S", "template": "t", "execution_id": "e"}
    assert SendInput.parse({**base, "include": ["cart"]}).include == ("cart",)
    with pytest.raises(SendInputError, match="include: unknown 'basket'"):
        SendInput.parse({**base, "include": ["basket"]})
    with pytest.raises(SendInputError, match="include: must be a list"):
        SendInput.parse({**base, "include": "cart"})


# ---------------------------------------------------------------- content per step (point 4)
def _renderings():
    reg = registry.load()
    return reg, render_all(STORE, reg, REPO / "statemachines")


def test_every_send_step_of_every_journey_has_its_own_subject_heading_and_body():
    reg, m = _renderings()
    assert not m.errors and not [r.error for r in m.renderings if r.error]
    for name, journey in reg.journeys.items():
        steps = send_steps(journey, REPO / "statemachines")
        assert steps, name
        for variant in journey.split:
            email = {r.step.stage: r for r in m.renderings
                     if r.step.journey == name and r.variant == variant and r.channel == "email" and r.locale == "en"}
            assert set(email) == {s.stage for s in steps}, name
            subjects = [r.subject for r in email.values()]
            assert len(set(subjects)) == len(subjects), (name, variant, subjects)  # no two steps share a subject
            headings = [r.text.strip().splitlines()[0] for r in email.values()]
            assert len(set(headings)) == len(headings), (name, headings)
            bodies = [r.text for r in email.values()]
            assert len(set(bodies)) == len(bodies), name


def test_what_marketers_read_in_the_steps_of_the_event_nurture_welcome_and_win_back():
    reg, m = _renderings()

    def subject(journey, stage, variant="A", channel="email"):
        return next(r.subject for r in m.renderings if (r.step.journey, r.step.stage, r.variant, r.channel, r.locale)
                    == (journey, stage, variant, channel, "en"))

    assert subject("event_invitation", "main").startswith("You are invited: Spring tasting evening")
    assert subject("event_invitation", "last_chance").startswith("Last chance to sign up")
    assert subject("event_invitation", "confirmation").startswith("You are registered")
    assert subject("event_invitation", "thanks").startswith("Thank you for coming")
    assert "recording" in subject("event_invitation", "recording")
    assert [subject("nurture", f"lesson_{i}")[:12] for i in (1, 2, 3)] == ["Lesson 1 of ", "Lesson 2 of ", "Lesson 3 of "]
    assert "personal contact" in subject("nurture", "sales_intro")
    assert "In case you missed it" in subject("welcome", "resend")
    assert subject("welcome", "main", "B") == "Good to have you with us - a few picks to start with"
    assert subject("welcome", "main", "B", "push") == "Good to have you with us - a few picks to start with"
    assert "welcome you back" in subject("win_back", "offer_10") and "best offer" in subject("win_back", "offer_20")
    assert subject("abandoned_cart", "discount") == "15 % off your cart - code AINO15"


def test_sms_and_push_carry_the_offer_code_and_expiry():
    _, m = _renderings()
    for journey, stage in (("abandoned_cart", "discount"), ("location_offer", "main"), ("birthday", "main"),
                           ("win_back", "offer_10")):
        for channel in ("sms", "push"):
            texts = [r.text for r in m.renderings if (r.step.journey, r.step.stage, r.channel) == (journey, stage, channel)]
            assert texts and all("AINO15" in t and "1 Feb 2026" in t for t in texts if "valid" in t), (journey, texts)
            assert all("AINO15" in t for t in texts), (journey, channel, texts)


# ---------------------------------------------------------------- declared A/B difference
SPLIT = {"description": "d", "trigger": {"event": "x"}, "split": {"A": 0.5, "B": 0.5}}


@pytest.mark.parametrize("variants, field", [
    (None, "field variants: a split of 2 variants must declare"),
    ({"C": {}}, "field variants.C: no such variant"),
    ({"B": {"colour": "red"}}, "field variants.B.colour: unknown field"),
    ({"B": {"subject": {"main": "Hi {first_name}"}}}, "field variants.B.subject.main: plain text"),
    ({"B": {"subject": "Hi"}}, "field variants.B.subject: a mapping of stage"),
    ({"B": {"subject": {"main": {"Finnish": "Hei"}}}}, "field variants.B.subject.main.Finnish: a locale"),
    ({"B": {"subject": {"main": {"fi": ""}}}}, "field variants.B.subject.main.fi: a non-empty subject line"),
    ({"B": {"subject": {"main": {}}}}, "field variants.B.subject.main: a subject line, or a mapping of locale"),
    ({"B": {"template": "Not A Name"}}, "field variants.B.template"),
])
def test_registry_variants_are_validated_naming_the_field(variants, field):
    raw = {**SPLIT, **({"variants": variants} if variants is not None else {})}
    with pytest.raises(registry.RegistryError, match=field.replace("{", r"\{")):
        registry.parse_journey("jj", raw)


def test_lint_refuses_a_split_whose_variants_send_the_same_messages():
    reg = registry.load()
    same = registry.Registry({**reg.journeys, "welcome": registry.parse_journey(
        "welcome", {"description": "w", "trigger": {"event": "form_submit"}, "split": {"A": 0.5, "B": 0.5},
                    "variants": {"A": {}, "B": {}}})}, reg.path)
    findings = content_findings(render_all(STORE, same, REPO / "statemachines", ["welcome"]), same)
    assert any("welcome: the split A, B sends the same messages in every step" in f for f in findings), findings
    assert content_findings(render_all(STORE, reg, REPO / "statemachines", ["welcome", "cross_sell"]), reg) == []


def test_a_variant_subject_is_one_line_per_locale_and_plain_text_is_english():
    j = registry.parse_journey("jj", {**SPLIT, "variants": {"B": {"subject": {
        "main": {"en": "Hello", "fi": "Hei"}, "*": "Hi again"}}}})
    b = j.variant("B")
    assert (b.subject_for("main", "fi"), b.subject_for("main", "en"), b.subject_for("main", "cs")) == ("Hei", "Hello", None)
    assert (b.subject_for("resend", "en"), b.subject_for("resend", "fi")) == ("Hi again", None)
    assert j.variant("A").subject_for("main", "en") is None


def test_finnish_and_czech_customers_of_variant_b_get_its_subject_in_their_language():
    reg = registry.load()
    m = render_all(STORE, reg, REPO / "statemachines", ["welcome", "cross_sell"])
    declared = {"welcome": reg.get("welcome").variant("B"), "cross_sell": reg.get("cross_sell").variant("B")}
    checked = set()
    for r in m.renderings:
        texts = declared[r.step.journey].subjects(r.step.stage)
        if r.variant != "B" or r.channel != "email" or not texts:
            continue
        assert r.subject == texts[r.locale], (r.step.journey, r.step.stage, r.locale, r.subject)
        checked.add((r.step.journey, r.step.stage, r.locale))
    assert {("welcome", "main", "fi"), ("welcome", "resend", "cs"), ("cross_sell", "main", "fi")} <= checked, checked
    fi_b = next(r.subject for r in m.renderings if (r.step.journey, r.step.stage, r.variant, r.locale, r.channel)
                == ("welcome", "main", "B", "fi", "email"))
    fi_a = next(r.subject for r in m.renderings if (r.step.journey, r.step.stage, r.variant, r.locale, r.channel)
                == ("welcome", "main", "A", "fi", "email"))
    assert fi_b == "Mukava, että olet mukana - muutama poiminta alkuun" and fi_a != fi_b


def test_lint_refuses_a_variant_subject_missing_a_locale_its_template_has():
    reg = registry.load()
    english_only = registry.Registry({**reg.journeys, "welcome": registry.parse_journey(
        "welcome", {"description": "w", "trigger": {"event": "form_submit"}, "split": {"A": 0.5, "B": 0.5},
                    "variants": {"A": {}, "B": {"subject": {"main": "Good to have you with us"}}}})}, reg.path)
    findings = content_findings(render_all(STORE, english_only, REPO / "statemachines", ["welcome"]), english_only)
    missing = sorted(f.split(" but none in ")[1][:2] for f in findings if "variant B declares a subject for stage main" in f)
    assert missing == ["cs", "fi"], findings


def test_lint_names_two_stages_that_share_a_subject(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(REPO / "templates", root)
    nurture = root / "messages" / "nurture" / "en.j2"
    lines = nurture.read_text().splitlines()
    lines[1] = "{% block subject %}Ideas for you from {{ brand.name }}{% endblock %}"
    nurture.write_text("\n".join(lines) + "\n")
    reg = registry.load()
    findings = content_findings(render_all(TemplateStore(root), reg, REPO / "statemachines", ["nurture"]), reg)
    assert any("nurture: steps SendLesson1, SendLesson2, SendLesson3, SendSalesIntro" in f and "share the subject" in f
               for f in findings), findings


def test_templates_lint_renders_every_template_for_every_step_it_is_used_in(tmp_path, capsys):
    root = tmp_path / "templates"
    shutil.copytree(REPO / "templates", root)
    nurture = root / "messages" / "nurture" / "en.j2"
    nurture.write_text(nurture.read_text().replace(
        "{% block preheader %}", '{% block preheader %}{% if message.stage == "lesson_3" %}{{ data.missing }}{% endif %}', 1))
    assert main(["templates", "lint", "--dir", str(root)]) == 1
    out = capsys.readouterr().out
    assert "nurture/SendLesson3 (stage lesson_3, variant A): messages/nurture/en: email:" in out
    assert "undefined variable 'missing'" in out
    assert main(["templates", "lint", "--dir", str(REPO / "templates")]) == 0
    assert "journey steps: " in capsys.readouterr().out
