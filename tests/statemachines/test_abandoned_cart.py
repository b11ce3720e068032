from tests.statemachines.conftest import actions, at, event, exits, hours, identify, messages, of
from polku.clock import parse_iso

ITEM = {"product_id": "p1", "quantity": 1, "price": 12.5}


def test_buys_after_first_reminder_gets_one_message_and_exits_as_goal(run_journey):
    run = run_journey("abandoned_cart")
    c = run.cid("buyer")
    out = run([
        identify(c, "2026-01-05T09:00:00Z", time_zone="Europe/Helsinki"),
        event(c, "add_to_cart", "2026-01-05T10:00:00Z", **ITEM),
        event(c, "purchase", "2026-01-06T12:00:00Z", order_id="o1", revenue=12.5, items=[ITEM]),
    ])
    assert messages(out, c) == ["SendReminder"]
    assert of(out, c, "message")[0]["status"] == "sent" and of(out, c, "message")[0]["channel"] == "email"
    assert exits(out, c) == ["goal"]
    assert actions(out, c) == []
    assert of(out, c, "exited")[0]["at"] == "2026-01-06T12:00:00.000Z"
    # an hour later at the earliest, then at the customer's best time within a day
    assert 1 <= hours(parse_iso("2026-01-05T10:00:00Z"), at(out, c, "SendReminder")) <= 25


def test_never_buys_gets_reminder_then_discount_granted_and_revoked_48h_later(run_journey):
    run = run_journey("abandoned_cart")
    c = run.cid("browser")
    out = run([identify(c, "2026-01-05T09:00:00Z"), event(c, "add_to_cart", "2026-01-05T10:00:00Z", **ITEM)])
    assert messages(out, c) == ["SendReminder", "SendDiscount"]
    acts = of(out, c, "action")
    assert [a["type"] for a in acts] == ["OfferGranted", "OfferRevoked"]
    assert acts[0]["offer_id"] == acts[1]["offer_id"] and acts[0]["discount_percent"] == 15
    reminder = at(out, c, "SendReminder")
    assert hours(reminder, parse_iso(acts[0]["at"])) == 24  # a day after the reminder
    assert hours(parse_iso(acts[0]["at"]), parse_iso(acts[1]["at"])) == 48  # N = 48 hours later
    assert exits(out, c) == ["completed"]


def test_purchase_while_discount_is_on_ends_as_goal_and_revokes_the_discount(run_journey, journey_twin):
    run = run_journey("abandoned_cart")
    c = run.cid("late")
    out = run([
        identify(c, "2026-01-05T09:00:00Z"),
        event(c, "add_to_cart", "2026-01-05T10:00:00Z", **ITEM),
        event(c, "purchase", "2026-01-08T08:00:00Z", order_id="o2", revenue=12.5, items=[ITEM]),
    ])
    assert exits(out, c) == ["goal"]
    acts = of(out, c, "action")
    assert [a["type"] for a in acts] == ["OfferGranted", "OfferRevoked"]
    assert acts[1]["reason"] == "goal" and acts[1]["at"] == "2026-01-08T08:00:00.000Z"


def test_a_second_add_to_cart_during_the_run_or_cooldown_starts_nothing(run_journey):
    run = run_journey("abandoned_cart")
    c = run.cid("twice")
    out = run([
        identify(c, "2026-01-05T09:00:00Z"),
        event(c, "add_to_cart", "2026-01-05T10:00:00Z", **ITEM),
        event(c, "add_to_cart", "2026-01-05T10:30:00Z", product_id="p2", quantity=1),  # run still going
        event(c, "purchase", "2026-01-05T12:00:00Z", order_id="o9", revenue=12.5, items=[ITEM]),
        event(c, "add_to_cart", "2026-01-07T10:00:00Z", product_id="p3", quantity=1),  # run over, 72 h cooldown not
    ])
    assert len(of(out, c, "entered")) == 1
    assert exits(out, c) == ["goal"]


def test_reentry_after_cooldown_starts_a_second_run(run_journey):
    run = run_journey("abandoned_cart")
    c = run.cid("again")
    out = run([
        identify(c, "2026-01-05T09:00:00Z"),
        event(c, "add_to_cart", "2026-01-05T10:00:00Z", **ITEM),
        event(c, "purchase", "2026-01-06T12:00:00Z", order_id="o3", revenue=12.5, items=[ITEM]),
        event(c, "add_to_cart", "2026-01-09T10:00:00Z", **ITEM),
        event(c, "purchase", "2026-01-09T10:30:00Z", order_id="o4", revenue=12.5, items=[ITEM]),
    ])
    assert len(of(out, c, "entered")) == 2
    assert exits(out, c) == ["goal", "goal"]
    assert messages(out, c) == ["SendReminder"]  # first run only; the second ended before its reminder


def test_same_timeline_gives_byte_identical_output(run_journey):
    from polku.journeys.simulate import dumps

    run = run_journey("abandoned_cart")
    lines = lambda c: [identify(c, "2026-01-05T09:00:00Z"), event(c, "add_to_cart", "2026-01-05T10:00:00Z", **ITEM)]  # noqa: E731
    c = run.cid("det")
    first = dumps(run(lines(c)))
    # Same customer again would be blocked by the cooldown: replay on a fresh state by using a new twin-wide id
    # and compare the output with the id substituted.
    c2 = run.cid("det2")
    second = dumps(run(lines(c2))).replace(c2, c)
    # Execution names embed a digest of the customer id; normalise them.
    import re

    norm = lambda s: re.sub(r"-[0-9a-f]{20}", "-X", re.sub(r"(off|m)_[0-9a-f]{24,32}", "id", s))  # noqa: E731
    assert norm(first) == norm(second)
    assert first.count("\n") > 10
