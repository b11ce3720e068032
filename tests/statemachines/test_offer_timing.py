"""Offers are switched off when they expire, and the ERP hears why (real ASL, virtual clock)."""

from __future__ import annotations

from polku.clock import parse_iso
from tests.statemachines.conftest import event, exits, identify, of


def purchase(c, ts):
    return event(c, "purchase", ts, order_id=f"o-{ts}", revenue=20,
                 items=[{"product_id": "p7", "quantity": 1, "price": 20}])


def test_unused_birthday_offer_is_revoked_when_it_expires_not_a_week_after_the_greeting(run_journey):
    run = run_journey("birthday")
    c = run.cid("bdayunused")
    out = run([identify(c, "2026-01-05T07:00:00Z", birthday="1990-01-06", time_zone="America/New_York")],
              until=parse_iso("2026-01-07T00:00:00Z"))
    greeting = [m for m in of(out, c, "message") if m["status"] == "sent"]
    assert [m["state"] for m in greeting] == ["SendBirthday"]
    granted, revoked = of(out, c, "action")
    assert granted["type"] == "OfferGranted" and granted["valid_until"] == "2026-01-13T08:00:00.000Z"
    assert parse_iso(greeting[0]["at"]) > parse_iso(granted["at"])  # sent later in the day, New York time
    assert revoked["type"] == "OfferRevoked" and revoked["at"] == granted["valid_until"]
    assert revoked["reason"] == "expired"
    assert exits(out, c) == ["completed"]


def test_birthday_purchase_reaches_the_erp_as_goal(run_journey):
    run = run_journey("birthday")
    c = run.cid("bdaygoal")
    out = run([identify(c, "2026-01-05T07:00:00Z", birthday="1985-01-06"), purchase(c, "2026-01-08T12:00:00Z")],
              until=parse_iso("2026-01-07T00:00:00Z"))
    revoked = [a for a in of(out, c, "action") if a["type"] == "OfferRevoked"]
    assert revoked and {(a["code"], a["reason"], a["at"]) for a in revoked} == {("BDAY20", "goal", "2026-01-08T12:00:00.000Z")}
    assert exits(out, c) == ["goal"]
