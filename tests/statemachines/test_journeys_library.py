"""The other journeys of the library, each on timelines that take every branch."""

from polku.clock import parse_iso
from tests.statemachines.conftest import actions, at, event, exits, hours, identify, messages, of

ITEM = {"product_id": "p7", "quantity": 1, "price": 20}


# ---------------------------------------------------------------- browse abandonment
def test_browse_abandonment_reminds_after_four_hours(run_journey):
    run = run_journey("browse_abandonment")
    c = run.cid("viewer")
    out = run([identify(c, "2026-01-05T08:00:00Z"), event(c, "product_view", "2026-01-05T09:00:00Z", product_id="p7")])
    assert messages(out, c) == ["SendBrowseReminder"]
    assert 4 <= hours(parse_iso("2026-01-05T09:00:00Z"), at(out, c, "SendBrowseReminder")) <= 28
    assert exits(out, c) == ["completed"]


def test_browse_abandonment_add_to_cart_is_the_goal(run_journey):
    run = run_journey("browse_abandonment")
    c = run.cid("carter")
    out = run([
        identify(c, "2026-01-05T08:00:00Z"),
        event(c, "product_view", "2026-01-05T09:00:00Z", product_id="p7"),
        event(c, "add_to_cart", "2026-01-05T10:00:00Z", product_id="p7", quantity=1),
    ])
    assert messages(out, c) == [] and exits(out, c) == ["goal"]


def test_browse_abandonment_needs_a_product(run_journey):
    run = run_journey("browse_abandonment")
    c = run.cid("nopid")
    out = run([identify(c, "2026-01-05T08:00:00Z"), event(c, "page_view", "2026-01-05T09:00:00Z", url="https://x.example/")])
    assert of(out, c) == []


# ---------------------------------------------------------------- cross-sell
def purchase(c, ts, revenue=20):
    return event(c, "purchase", ts, order_id=f"o-{ts}", revenue=revenue, items=[ITEM])


def test_cross_sell_repeat_purchase_is_the_goal_and_variant_sets_the_delay(run_journey):
    run = run_journey("cross_sell")
    c = run.cid("repeat")
    out = run([identify(c, "2026-01-05T08:00:00Z"), purchase(c, "2026-01-05T10:00:00Z"),
               purchase(c, "2026-01-14T10:00:00Z")])
    variant = of(out, c, "entered")[0]["variant"]
    msg = of(out, c, "message")
    assert [m["template"] for m in msg] == ["cross_sell"]
    delay = hours(parse_iso("2026-01-05T10:00:00Z"), at(out, c, "SendCrossSell"))
    assert (72 <= delay <= 96) if variant == "A" else (168 <= delay <= 192)
    assert exits(out, c) == ["goal"]


def test_cross_sell_without_repeat_purchase_completes_and_small_orders_do_not_enter(run_journey):
    run = run_journey("cross_sell")
    c, small = run.cid("once"), run.cid("small")
    out = run([identify(c, "2026-01-05T08:00:00Z"), purchase(c, "2026-01-05T10:00:00Z"),
               identify(small, "2026-01-05T08:00:00Z"), purchase(small, "2026-01-05T10:00:00Z", revenue=5)])
    assert messages(out, c) == ["SendCrossSell"] and exits(out, c) == ["completed"]
    assert of(out, small) == []


# ---------------------------------------------------------------- birthday (scheduled)
def test_birthday_greets_on_the_day_and_revokes_unused_offer_after_a_week(run_journey):
    run = run_journey("birthday")
    c, other = run.cid("bday"), run.cid("notbday")
    out = run([identify(c, "2026-01-05T07:00:00Z", birthday="1990-01-06"),
               identify(other, "2026-01-05T07:00:00Z", birthday="1990-03-01")],
              until=__import__("polku.clock", fromlist=["parse_iso"]).parse_iso("2026-01-07T00:00:00Z"))
    entered = of(out, c, "entered")
    assert len(entered) == 1 and entered[0]["at"] == "2026-01-06T08:00:00.000Z"
    assert messages(out, c) == ["SendBirthday"]
    acts = of(out, c, "action")
    assert [a["type"] for a in acts] == ["OfferGranted", "OfferRevoked"]
    assert hours(at(out, c, "SendBirthday"), parse_iso(acts[1]["at"])) == 7 * 24  # a week after the greeting
    assert exits(out, c) == ["completed"]
    assert of(out, other) == []


def test_birthday_purchase_revokes_at_once_and_is_the_goal(run_journey):
    from polku.clock import parse_iso

    run = run_journey("birthday")
    c = run.cid("bdaybuy")
    out = run([identify(c, "2026-01-05T07:00:00Z", birthday="1985-01-06"), purchase(c, "2026-01-07T12:00:00Z")],
              until=parse_iso("2026-01-07T00:00:00Z"))
    acts = of(out, c, "action")  # each revoke reported once (the run's own, not again from the journey state)
    assert [a["type"] for a in acts] == ["OfferGranted", "OfferRevoked"]
    assert acts[1]["at"] == "2026-01-07T12:00:00.000Z" and acts[1]["reason"] == "goal"
    assert exits(out, c) == ["goal"]


# ---------------------------------------------------------------- event invitation
def custom(c, name, ts, event_date="2026-01-12"):
    return event(c, "custom", ts, name=name, event_ref="spring-webinar", event_name="Spring webinar", event_date=event_date)


def test_event_registered_and_attended_gets_thanks(run_journey):
    run = run_journey("event_invitation")
    c = run.cid("attendee")
    out = run([identify(c, "2026-01-05T08:00:00Z"), custom(c, "event_invited", "2026-01-05T09:00:00Z"),
               custom(c, "event_registered", "2026-01-06T10:00:00Z"), custom(c, "event_attended", "2026-01-12T17:00:00Z")])
    assert messages(out, c) == ["SendInvitation", "SendConfirmation", "SendReminder", "SendThanks"]
    assert exits(out, c) == ["goal"]


def test_event_registered_but_no_show_gets_the_recording(run_journey):
    run = run_journey("event_invitation")
    c = run.cid("noshow")
    out = run([identify(c, "2026-01-05T08:00:00Z"), custom(c, "event_invited", "2026-01-05T09:00:00Z"),
               custom(c, "event_registered", "2026-01-06T10:00:00Z")])
    assert messages(out, c) == ["SendInvitation", "SendConfirmation", "SendReminder", "SendRecording"]
    assert exits(out, c) == ["completed"]


def test_event_neither_gets_one_last_chance(run_journey):
    run = run_journey("event_invitation")
    c = run.cid("neither")
    out = run([identify(c, "2026-01-05T08:00:00Z"), custom(c, "event_invited", "2026-01-05T09:00:00Z")])
    assert messages(out, c) == ["SendInvitation", "SendLastChance"]
    assert exits(out, c) == ["completed"]


def test_event_late_registration_joins_the_registered_path(run_journey):
    run = run_journey("event_invitation")
    c = run.cid("late")
    out = run([identify(c, "2026-01-05T08:00:00Z"), custom(c, "event_invited", "2026-01-05T09:00:00Z", "2026-01-20"),
               custom(c, "event_registered", "2026-01-13T10:00:00Z"), custom(c, "event_attended", "2026-01-20T17:00:00Z")])
    assert messages(out, c) == ["SendInvitation", "SendLastChance", "SendConfirmation", "SendReminder", "SendThanks"]


# ---------------------------------------------------------------- nurture
def lead(c, ts):
    return event(c, "form_submit", ts, form_id="lead")


def test_nurture_cold_lead_gets_three_lessons(run_journey):
    run = run_journey("nurture")
    c = run.cid("cold")
    out = run([identify(c, "2026-01-05T08:00:00Z"), lead(c, "2026-01-05T09:00:00Z")])
    assert messages(out, c) == ["SendLesson1", "SendLesson2", "SendLesson3"]
    assert actions(out, c) == [] and exits(out, c) == ["completed"]


def test_nurture_hot_lead_is_handed_to_sales(run_journey):
    run = run_journey("nurture")
    c = run.cid("hot")
    lines = [identify(c, "2026-01-05T08:00:00Z"), lead(c, "2026-01-05T09:00:00Z")]
    for i in range(6):  # engaged: downloads and forms push the lead score over the threshold
        lines.append(event(c, "form_submit", f"2026-01-06T1{i}:00:00Z", form_id=f"download-{i}"))
        lines.append(event(c, "product_view", f"2026-01-06T1{i}:30:00Z", product_id="p1"))
    out = run(lines)
    assert "sales_handoff" in actions(out, c)
    assert messages(out, c)[-1] == "SendSalesIntro"
    assert "SendLesson3" not in messages(out, c)
    assert exits(out, c) == ["goal"]


# ---------------------------------------------------------------- win-back (scheduled)
def test_win_back_escalates_10_then_20_percent(run_journey):
    from polku.clock import parse_iso

    run = run_journey("win_back")
    c, active = run.cid("lapsed"), run.cid("active")
    out = run([identify(c, "2025-10-01T08:00:00Z"), purchase(c, "2025-10-01T09:00:00Z"),
               identify(active, "2025-10-01T08:00:00Z"), purchase(active, "2025-10-01T09:00:00Z"),
               purchase(active, "2025-11-25T09:00:00Z")],
              until=parse_iso("2025-12-01T10:00:00Z"))
    entered = of(out, c, "entered")
    assert len(entered) == 1 and entered[0]["at"] == "2025-11-30T09:00:00.000Z"  # first 09:00 tick 60 days after
    assert messages(out, c) == ["SendWeMissYou", "SendOffer10", "SendOffer20"]
    acts = of(out, c, "action")
    assert [(a["type"], a.get("code")) for a in acts] == [("OfferGranted", "WB10"), ("OfferRevoked", "WB10"),
                                                          ("OfferGranted", "WB20"), ("OfferRevoked", "WB20")]
    assert exits(out, c) == ["completed"]
    assert of(out, active) == []


def test_win_back_purchase_is_the_goal(run_journey):
    from polku.clock import parse_iso

    run = run_journey("win_back")
    c = run.cid("back")
    out = run([identify(c, "2025-10-01T08:00:00Z"), purchase(c, "2025-10-01T09:00:00Z"),
               purchase(c, "2025-12-10T12:00:00Z")], until=parse_iso("2025-12-01T10:00:00Z"))
    assert exits(out, c) == ["goal"]
    assert [a["type"] for a in of(out, c, "action")] == ["OfferGranted", "OfferRevoked"]
    assert of(out, c, "action")[1]["reason"] == "goal"


# ---------------------------------------------------------------- location offer
def test_location_offer_in_opening_hours_grants_three_hours(run_journey):
    run = run_journey("location_offer")
    c = run.cid("near")
    out = run([identify(c, "2026-01-05T08:00:00Z"), event(c, "location", "2026-01-05T12:00:00Z", store_id="hki-1")])
    assert messages(out, c) == ["SendStoreOffer"]
    acts = of(out, c, "action")
    assert [a["type"] for a in acts] == ["OfferGranted", "OfferRevoked"]
    assert acts[1]["at"] == "2026-01-05T15:00:00.000Z"
    assert exits(out, c) == ["completed"]


def test_location_offer_outside_opening_hours_sends_nothing(run_journey):
    run = run_journey("location_offer")
    c = run.cid("night")
    out = run([identify(c, "2026-01-05T08:00:00Z"), event(c, "location", "2026-01-05T22:00:00Z", store_id="hki-1")])
    assert messages(out, c) == [] and actions(out, c) == []
    assert exits(out, c) == ["completed"]
