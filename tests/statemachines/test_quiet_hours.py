"""No message is lost to quiet hours: a deferred Send waits until its send_at and goes out then.

Real ASL, real Send and offer handlers, virtual clock. The outcome asserted is what the customer
gets (which message, at what local time) and what the ERP hears (offers valid when announced).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from polku.clock import parse_iso
from tests.statemachines.conftest import event, exits, identify, of

HELSINKI = ZoneInfo("Europe/Helsinki")
NEW_YORK = ZoneInfo("America/New_York")


def sent(happenings, customer) -> list[dict]:
    return [h for h in of(happenings, customer, "message") if h.get("status") == "sent"]


def local(h: dict, tz: ZoneInfo) -> dt.datetime:
    return parse_iso(h["at"]).astimezone(tz)


def test_sign_up_at_2330_local_gets_the_welcome_at_0800(run_journey):
    run = run_journey("welcome")
    c = run.cid("nightowl")
    out = run([identify(c, "2026-01-05T21:00:00Z", time_zone="Europe/Helsinki"),
               event(c, "form_submit", "2026-01-05T21:30:00Z", form_id="signup")])  # 23:30 in Helsinki
    mails = sent(out, c)
    assert [m["state"] for m in mails][:1] == ["SendWelcome"]
    assert local(mails[0], HELSINKI) == dt.datetime(2026, 1, 6, 8, 0, tzinfo=HELSINKI)
    # The same message, sent once: one welcome in the log, however often it was deferred.
    assert len({m["message_id"] for m in of(out, c, "message") if m["state"] == "SendWelcome"}) == 1
    assert [m["state"] for m in mails].count("SendWelcome") == 1
    assert exits(out, c) == ["completed"]


def purchase(c, ts):
    return event(c, "purchase", ts, order_id=f"o-{ts}", revenue=20,
                 items=[{"product_id": "p7", "quantity": 1, "price": 20}])


def test_new_york_win_back_gets_all_three_mails_while_each_discount_is_on(run_journey):
    run = run_journey("win_back")
    c = run.cid("nyc")
    out = run([identify(c, "2025-10-01T08:00:00Z", time_zone="America/New_York"), purchase(c, "2025-10-01T09:00:00Z")],
              until=parse_iso("2025-12-01T10:00:00Z"))
    mails = sent(out, c)
    assert [m["state"] for m in mails] == ["SendWeMissYou", "SendOffer10", "SendOffer20"]
    for m in mails:  # the scheduler ticks at 09:00 UTC = 04:00 in New York: every mail waits for 08:00
        assert 8 <= local(m, NEW_YORK).hour < 21, m
    acts = of(out, c, "action")
    assert [(a["type"], a["code"]) for a in acts] == [("OfferGranted", "WB10"), ("OfferRevoked", "WB10"),
                                                      ("OfferGranted", "WB20"), ("OfferRevoked", "WB20")]
    for mail, granted, revoked in ((mails[1], acts[0], acts[1]), (mails[2], acts[2], acts[3])):
        # the mail announcing a discount goes out while the discount is switched on in the ERP ...
        assert parse_iso(granted["at"]) <= parse_iso(mail["at"]) < parse_iso(granted["valid_until"])
        # ... and it is switched off when it expires, not later
        assert revoked["at"] == granted["valid_until"]
        assert revoked["reason"] == "expired"
    assert exits(out, c) == ["completed"]
