"""What customers read, through the real journeys: the real ASL in the twin, the real Send step,
the rendered messages as the twin's SES and SNS accepted them (issue 15: points 3, 4, 6, 10)."""

from __future__ import annotations

import pytest

from polku.journeys.registry import load
from polku.journeys.variants import assign
from tests.statemachines.conftest import event, identify, of

SPINACH = {"product_id": "cc-spinach", "name": "Organic Baby Spinach", "category": "greens", "price": 2.79,
           "image_url": "https://cdn.example.com/cc-spinach.png", "url": "https://shop.example.com/p/cc-spinach"}
LOAF = {"product_id": "cc-loaf", "name": "Sourdough Loaf", "category": "bakery", "price": 4.5,
        "url": "https://shop.example.com/p/cc-loaf"}
BERRIES = {"product_id": "cc-berries", "name": "Organic Strawberries", "category": "fruit", "price": 3.49,
           "url": "https://shop.example.com/p/cc-berries"}


@pytest.fixture(scope="module")
def catalogue(journey_twin):
    from polku.journeys.simulate import InProcess
    from polku.data import catalog

    with InProcess(journey_twin):
        catalog.save_products([SPINACH, LOAF, BERRIES])
    return journey_twin


def sent(out, customer):
    return [m for m in of(out, customer, "message") if m["status"] == "sent"]


def add(c, ts, product, quantity=1):
    return event(c, "add_to_cart", ts, product_id=product["product_id"], quantity=quantity, price=product["price"])


def test_the_cart_mail_lists_the_customers_cart_with_names_prices_and_quantities(run_journey, catalogue):
    run = run_journey("abandoned_cart")
    c = run.cid("carted")
    out = run([identify(c, "2026-01-05T09:00:00Z", first_name="Aino", time_zone="Europe/Helsinki"),
               add(c, "2026-01-05T10:00:00Z", SPINACH, 2),
               add(c, "2026-01-05T10:02:00Z", LOAF),
               add(c, "2026-01-05T10:03:00Z", BERRIES),
               event(c, "remove_from_cart", "2026-01-05T10:04:00Z", product_id=BERRIES["product_id"])])
    reminder, discount = sent(out, c)
    assert reminder["subject"] == "Aino, your cart is waiting"
    assert "- 2 x Organic Baby Spinach, €2.79: https://shop.example.com/p/cc-spinach" in reminder["text"]
    assert "- Sourdough Loaf, €4.50: https://shop.example.com/p/cc-loaf" in reminder["text"]
    assert "Strawberries" not in reminder["text"]  # taken out again
    assert "Cart total: €10.08" in reminder["text"]
    assert "Have a look at what is new" not in reminder["text"]
    assert discount["subject"] == "15 % off your cart - code CART15"
    assert "Organic Baby Spinach" in discount["text"] and "(Code: CART15), valid until" in discount["text"]
    assert reminder["subject"] != discount["subject"]


def test_the_discount_sms_carries_the_code_and_expiry(run_journey, catalogue):
    run = run_journey("abandoned_cart")
    c = run.cid("texter")
    out = run([{"type": "identify", "customer_id": c, "ts": "2026-01-05T09:00:00Z",
                "properties": {"phone": "+358401234567", "preferred_channel": "sms", "consents": {"sms": True},
                               "time_zone": "Europe/Helsinki"}},
               add(c, "2026-01-05T10:00:00Z", LOAF)])
    reminder, discount = sent(out, c)
    assert {reminder["channel"], discount["channel"]} == {"sms"}
    assert "your cart is waiting (Sourdough Loaf)" in reminder["text"]
    assert "15 % off on your cart, code CART15, valid until" in discount["text"]
    assert "subject" in discount  # an SMS has no subject line: empty


def test_the_browse_reminder_shows_the_viewed_product(run_journey, catalogue):
    run = run_journey("browse_abandonment")
    c = run.cid("looker")
    out = run([identify(c, "2026-01-05T08:00:00Z"),
               event(c, "product_view", "2026-01-05T09:00:00Z", product_id=BERRIES["product_id"])])
    (m,) = sent(out, c)
    assert m["subject"] == "Still thinking about Organic Strawberries?"
    assert "You looked at:\n- Organic Strawberries, €3.49: https://shop.example.com/p/cc-berries" in m["text"]


def test_every_event_step_says_what_it_is_for(run_journey):
    run = run_journey("event_invitation")
    c, d = run.cid("attendee"), run.cid("noshow")
    props = {"event_name": "Spring tasting evening", "event_date": "2026-01-12", "event_ref": "spring"}
    out = run([identify(c, "2026-01-05T08:00:00Z"), identify(d, "2026-01-05T08:00:00Z"),
               event(c, "custom", "2026-01-05T09:00:00Z", name="event_invited", **props),
               event(d, "custom", "2026-01-05T09:00:00Z", name="event_invited", **props),
               event(c, "custom", "2026-01-06T10:00:00Z", name="event_registered", **props),
               event(d, "custom", "2026-01-06T10:00:00Z", name="event_registered", **props),
               event(c, "custom", "2026-01-12T17:00:00Z", name="event_attended", **props)])
    subjects = {m["state"]: m["subject"] for m in sent(out, c) + sent(out, d)}
    assert subjects == {
        "SendInvitation": "You are invited: Spring tasting evening",
        "SendConfirmation": "You are registered: Spring tasting evening",
        "SendReminder": "Tomorrow: Spring tasting evening",
        "SendThanks": "Thank you for coming: Spring tasting evening",
        "SendRecording": "Sorry we missed you - here is the recording: Spring tasting evening",
    }


def test_welcome_variants_differ_as_the_registry_declares(run_journey):
    run = run_journey("welcome")
    journey = load().get("welcome")
    by_variant = {}
    for i in range(60):
        cid = run.cid(f"v{i}")
        by_variant.setdefault(assign(cid, "welcome", journey.split), cid)
        if len(by_variant) == 2:
            break
    a, b = by_variant["A"], by_variant["B"]
    signup = lambda c: event(c, "form_submit", "2026-01-05T10:00:00Z", form_id="signup")  # noqa: E731
    out = run([identify(a, "2026-01-05T09:00:00Z", first_name="Aino"), signup(a),
               identify(b, "2026-01-05T09:00:00Z", first_name="Bea"), signup(b)])
    first_a, first_b = sent(out, a)[0], sent(out, b)[0]
    assert first_a["state"] == first_b["state"] == "SendWelcome"
    assert first_a["subject"] == "Welcome to Polku Shop, Aino!"
    assert first_b["subject"] == journey.variant("B").subject_for("main", "en")  # an en customer
    resend_a, resend_b = sent(out, a)[-1], sent(out, b)[-1]
    assert resend_a["state"] == "SendResend" and resend_a["subject"] == "In case you missed it: welcome to Polku Shop"
    assert resend_b["subject"] == journey.variant("B").subject_for("resend", "en")


def test_simulating_a_journey_without_its_definition_is_a_clear_error(journey_twin):
    """simulate publishes the journey from its registry's folder; without its ASL file it says so."""
    from polku.journeys import registry
    from polku.journeys.simulate import Simulation, SimulationError, parse_timeline

    reg = registry.load()
    ghost = registry.parse_journey("ghost", {"description": "no definition", "trigger": {"event": "page_view"}})
    sim = Simulation("ghost", twin=journey_twin, registry=registry.Registry({**reg.journeys, "ghost": ghost}, reg.path))
    with pytest.raises(SimulationError, match=r"journey ghost: cannot read .*statemachines/ghost\.asl\.json .*polku journeys lint"):
        sim.run(parse_timeline(['{"type": "page_view", "customer_id": "g", "ts": "2026-01-05T10:00:00Z", '
                                '"properties": {"url": "https://x.example/"}}']))


def test_the_store_sms_names_the_store_and_carries_its_code(run_journey):
    run = run_journey("location_offer")
    c = run.cid("nearby")
    out = run([{"type": "identify", "customer_id": c, "ts": "2026-01-05T08:00:00Z",
                "properties": {"phone": "+358401234568", "preferred_channel": "sms", "consents": {"sms": True},
                               "time_zone": "Europe/Helsinki"}},
               event(c, "location", "2026-01-05T12:00:00Z", store_id="hki-1")])
    (m,) = sent(out, c)
    assert m["channel"] == "sms"
    assert m["text"].startswith("Polku Shop Kamppi: 10 % off in store, code STORE10, valid until 5 Jan 2026.")


def test_the_invitation_names_the_event_and_its_date(run_journey):
    run = run_journey("event_invitation")
    c = run.cid("invitee")
    out = run([identify(c, "2026-01-05T08:00:00Z"),
               event(c, "custom", "2026-01-05T09:00:00Z", name="event_invited", event_name="Spring tasting evening",
                     event_date="2026-01-12")])
    invitation = sent(out, c)[0]
    assert "we would love to see you at Spring tasting evening on 12 Jan 2026." in invitation["text"]


def test_a_cart_filled_before_signing_in_is_listed_whole(run_journey, catalogue):
    run = run_journey("abandoned_cart")
    c = run.cid("anoncart")
    anon = f"a-{c}"
    out = run([{"type": "add_to_cart", "anonymous_id": anon, "ts": "2026-01-05T08:50:00Z",
                "properties": {"product_id": SPINACH["product_id"], "quantity": 1}},  # before signing in
               {"type": "identify", "customer_id": c, "anonymous_id": anon, "ts": "2026-01-05T09:00:00Z",
                "properties": {"email": f"{c}@example.com", "consents": {"email": True}}},
               {"type": "add_to_cart", "customer_id": c, "ts": "2026-01-05T09:10:00Z",
                "properties": {"product_id": LOAF["product_id"], "quantity": 1}}])
    reminder = sent(out, c)[0]
    assert "- Organic Baby Spinach, €2.79" in reminder["text"] and "- Sourdough Loaf, €4.50" in reminder["text"]
