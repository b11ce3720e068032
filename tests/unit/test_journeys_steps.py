import datetime as dt

import pytest

from polku import clock
from polku.journeys import steps
from polku.journeys.runs import execution_name, trigger_product
from polku.journeys.steps import StepInputError, derive_profile, lead_score, run_step

UTC = dt.timezone.utc


def test_execution_names_are_deterministic_valid_and_distinct():
    a = execution_name("abandoned_cart", "cust/ä 1", "ev-1")
    assert a == execution_name("abandoned_cart", "cust/ä 1", "ev-1")
    assert a != execution_name("abandoned_cart", "cust/ä 1", "ev-2")
    assert a != execution_name("welcome", "cust/ä 1", "ev-1")
    long = execution_name("j", "x" * 200, "e")
    assert len(long) <= 80 and all(c.isalnum() or c in "-_" for c in a + long)


def test_trigger_product_from_property_or_first_item():
    assert trigger_product({"properties": {"product_id": 7}}) == "7"
    assert trigger_product({"properties": {"items": [{"product_id": "p9", "quantity": 1}]}}) == "p9"
    assert trigger_product({"properties": {}}) is None


def test_store_open_uses_store_local_time(virtual_clock):
    virtual_clock.advance_to(dt.datetime(2026, 1, 5, 18, 30, tzinfo=UTC))  # 20:30 in Helsinki
    assert run_step({"action": "store_open", "store_id": "hki-1"})["open"]  # hki-1: 09-21 Helsinki time
    virtual_clock.advance_to(dt.datetime(2026, 1, 5, 19, 30, tzinfo=UTC))  # 21:30
    assert not run_step({"action": "store_open", "trigger": {"properties": {"store_id": "hki-1"}}})["open"]


def test_lead_score_prefers_stored_score_then_weighted_counts():
    assert lead_score({"lead_score": 42, "counts": {"download": 10}}) == 42
    assert lead_score({"counts": {"download": 2, "page_view": 3}}) == 23
    assert lead_score({"counts": {"download": 2}}, {"download": 1}) == 2


def test_derived_profile_fields():
    now = dt.datetime(2026, 3, 1, 9, tzinfo=UTC)
    v = derive_profile({"traits": {"birthday": "1990-03-01"}, "last_seen": "2025-12-31T09:00:00Z"}, now)
    assert v["birthday_today"] is True and v["days_since_last_seen"] == 60
    assert derive_profile({"traits": {"birthday": "1990-03-02"}}, now)["birthday_today"] is False


@pytest.mark.parametrize("event, field", [
    ({"action": "teleport"}, "action"),
    ({"action": "event_since", "event_type": "x"}, "customer_id"),
    ({"action": "event_since", "customer_id": "c", "event_type": "x", "since": "yesterday"}, "since"),
    ({"action": "score_gate", "customer_id": "c"}, "threshold"),
    ({"action": "exit", "customer_id": "c", "journey": "j", "reason": "bored"}, "reason"),
])
def test_bad_step_input_names_the_field(event, field):
    with pytest.raises(StepInputError, match=f"^{field}"):
        run_step(event)


def test_assign_variant_is_stable():
    a = steps.assign_variant({"customer_id": "c1", "journey": "welcome", "splits": {"A": 0.5, "B": 0.5}})
    b = steps.assign_variant({"customer_id": "c1", "journey": "welcome", "splits": {"A": 0.5, "B": 0.5}})
    assert a["variant"] == b["variant"]


def test_virtual_clock_yield_now_lets_others_finish_without_moving_time():
    import threading

    vc = clock.VirtualClock(dt.datetime(2026, 1, 5, tzinfo=UTC))
    seen = []
    with vc.actor():
        vc.enter()

        def other():
            try:
                vc.sleep(0)  # no-op
                seen.append("other ran")
            finally:
                vc.leave()

        threading.Thread(target=other).start()
        vc.yield_now()
        assert seen == ["other ran"]
        assert vc.now() == dt.datetime(2026, 1, 5, tzinfo=UTC)
