"""Campaign files, each member's plan (holdout, variant, send time) and a Send batch (pure parts)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from polku.campaigns import audience, definition, sending
from polku.campaigns.definition import CampaignError, parse
from polku.messaging.send_time import QuietHours

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 4, 14, 4, 0, tzinfo=UTC)
BASE = {"name": "c", "segment": "s", "template": "spring_newsletter", "send": {"at": "2026-04-14T07:00:00Z"}}


def camp(**over) -> definition.Campaign:
    return parse({**BASE, **over})


def test_the_shipped_campaign_file():
    c = definition.load("spring_newsletter")
    assert (c.segment, c.template, c.channel, c.message_type) == ("lapsed_coffee_lovers", "spring_newsletter", "email",
                                                                  "newsletter")
    assert c.send == definition.SendWindow("local_time", local_time="2026-04-14T09:00")
    assert c.variants == {"A": 0.5, "B": 0.5} and c.holdout == 0.1 and c.journey == "campaign:spring_newsletter"
    assert definition.from_dict(c.to_dict()) == c  # the execution input gives the same campaign


@pytest.mark.parametrize("over, field", [
    ({"name": "Spring!"}, "name: lower-case"),
    ({"segment": None}, "segment: required"),
    ({"message_type": "transactional"}, "message_type: one of newsletter, offer, reminder"),
    ({"channel": "fax"}, "channel: one of email, sms, push"),
    ({"send": {"at": "2026-04-14T07:00"}}, "send.at: give the zone"),
    ({"send": {"local_time": "9am"}}, "send.local_time: a local date and time"),
    ({"send": {"best_hour": {"from": "2026-04-14T07:00:00Z", "window_hours": 500}}}, "best_hour.window_hours"),
    ({"send": {"at": "2026-04-14T07:00:00Z", "local_time": "2026-04-14T09:00"}}, "send: give one of"),
    ({"variants": {"A": 0.5, "B": 0.6}}, "variants: shares must sum to 1"),
    ({"variants": {"holdout": 1}}, "variants: name 'holdout'"),
    ({"holdout": 0.9}, "holdout: a share from 0 to 0.5"),
    ({"offer": {"code": "X", "discount_percent": 15, "valid_days": 90}}, "offer.valid_days"),
    ({"recommend": {"strategy": "similar", "count": 40}}, "recommend.count"),
    ({"default_time_zone": "Mars/Olympus"}, "default_time_zone: not a time zone"),
    ({"colour": "red"}, "unknown field 'colour'"),
])
def test_bad_campaigns_name_the_field(over, field):
    with pytest.raises(CampaignError) as err:
        camp(**over)
    assert field in str(err.value)


def profile(cid: str, tz: str | None = None, opens: dict | None = None) -> dict:
    return {"customer_id": cid, "time_zone": tz, "traits": {}, "open_hours": opens or {}}


def test_holdout_and_variants_are_stable_per_campaign_and_customer():
    c = camp(variants={"A": 0.5, "B": 0.5}, holdout=0.2)
    plans = [audience.plan_member(c, profile(f"c{i}"), NOW) for i in range(2000)]
    again = [audience.plan_member(c, profile(f"c{i}"), NOW) for i in range(2000)]
    assert plans == again
    counts = Counter(p.variant for p in plans)
    assert 300 < counts["holdout"] < 500 and abs(counts["A"] - counts["B"]) < 200
    other = camp(name="other", variants={"A": 0.5, "B": 0.5}, holdout=0.2)
    moved = sum(1 for i in range(2000) if audience.plan_member(other, profile(f"c{i}"), NOW).variant != plans[i].variant)
    assert moved > 500  # another campaign splits its own way


def test_send_time_at_a_local_time_in_each_zone_and_never_before_now():
    c = camp(send={"local_time": "2026-04-14T09:00"}, default_time_zone="Europe/Helsinki", holdout=0)
    at = lambda p, now=NOW: audience.send_time(c, p, now)  # noqa: E731
    assert at(profile("a", "Europe/Helsinki")) == dt.datetime(2026, 4, 14, 6, tzinfo=UTC)
    assert at(profile("b", "America/New_York")) == dt.datetime(2026, 4, 14, 13, tzinfo=UTC)
    assert at(profile("c")) == dt.datetime(2026, 4, 14, 6, tzinfo=UTC)  # no zone: the campaign's default
    late = dt.datetime(2026, 4, 14, 10, tzinfo=UTC)
    assert at(profile("a", "Europe/Helsinki"), late) == late  # already past there: now


def test_best_hour_follows_the_reader_and_the_quiet_hours():
    c = camp(send={"best_hour": {"from": "2026-04-14T04:00:00Z", "window_hours": 24}}, holdout=0)
    evening_reader = profile("r", "UTC", {str(1 * 24 + 19): 9})  # Tuesday 19:00 UTC, nine opens
    assert audience.send_time(c, evening_reader, NOW) == dt.datetime(2026, 4, 14, 19, tzinfo=UTC)
    night_reader = profile("n", "UTC", {str(1 * 24 + 23): 9})  # reads at 23:00, in the quiet hours
    assert audience.send_time(c, night_reader, NOW, QuietHours(21, 8)).hour not in (21, 22, 23, 0, 1, 2, 3, 4, 5, 6, 7)


def test_waves_group_by_time_without_the_holdout():
    members = [{"customer_id": "b", "variant": "A", "send_at": "T2"}, {"customer_id": "a", "variant": "B", "send_at": "T2"},
               {"customer_id": "c", "variant": "holdout", "send_at": "T1"}, {"customer_id": "d", "variant": "A", "send_at": "T1"}]
    assert audience.group_waves(members) == [("T1", [{"customer_id": "d", "variant": "A"}]),
                                             ("T2", [{"customer_id": "a", "variant": "B"}, {"customer_id": "b", "variant": "A"}])]


def batch(c, items, run_id="r1"):
    return {"action": "campaign_batch", "Items": items, "BatchInput": {"campaign": c.to_dict(), "run_id": run_id,
                                                                      "send_at": "2026-04-14T07:00:00.000Z"}}


def test_a_batch_sends_each_item_through_send_message_with_a_message_id_per_campaign_run_and_customer():
    c = camp(variants={"A": 0.5, "B": 0.5})
    seen = []

    def fake_send(inp, deps):
        seen.append(inp)
        return {"status": "deferred", "send_at": "2026-04-14T12:00:00.000Z"} if inp.customer_id == "z" else \
            {"status": "sent", "replayed": inp.customer_id == "y"}

    out = sending.send_batch(batch(c, [{"customer_id": "x", "variant": "A"}, {"customer_id": "y", "variant": "B"},
                                       {"customer_id": "z", "variant": "A"}]), deps=None, send=fake_send)
    assert out == {"campaign": "c", "run_id": "r1", "recipients": 3, "deferred": 1, "replayed": 1, "sent": 1,
                   "retry_at": "2026-04-14T12:00:00.000Z"}
    first = seen[0]
    assert (first.journey, first.step, first.template, first.message_type, first.variant, first.channel) == (
        "campaign:c", "send", "spring_newsletter", "newsletter", "A", None)
    assert first.execution_id == "campaign/c/r1/x" and first.scheduled_at == "2026-04-14T07:00:00.000Z"
    ids = {sending.message_id(c, "r1", cid) for cid in "xyz"}
    assert len(ids) == 3 and sending.message_id(c, "r1", "x") == sending.message_id(camp(), "r1", "x")
    assert sending.message_id(c, "r2", "x") != sending.message_id(c, "r1", "x")  # another run is another send


@pytest.mark.parametrize("event, field", [
    ({}, "BatchInput: required"),
    ({"BatchInput": {"campaign": BASE, "run_id": "r 1"}, "Items": [{"customer_id": "x", "variant": "A"}]}, "run_id"),
    ({"BatchInput": {"campaign": BASE, "run_id": "r1"}, "Items": []}, "Items: a list of 1 to 1000"),
    ({"BatchInput": {"campaign": BASE, "run_id": "r1"}, "Items": [{"variant": "A"}]}, "Items[0].customer_id"),
    ({"BatchInput": {"campaign": BASE, "run_id": "r1"}, "Items": [{"customer_id": "x", "variant": "Z"}]},
     "Items[0].variant"),
    ({"BatchInput": {"campaign": {**BASE, "holdout": 3}, "run_id": "r1"}, "Items": [{"customer_id": "x"}]}, "holdout"),
])
def test_bad_batches_name_the_field(event, field):
    with pytest.raises(CampaignError) as err:
        sending.send_batch(event, deps=None, send=lambda inp, deps: {"status": "sent"})
    assert field in str(err.value)


def test_an_offer_is_granted_once_per_recipient_before_the_message_and_revoked_by_id():
    from polku.journeys.offers import OfferInputError

    c = camp(offer={"code": "SPRING15", "discount_percent": 15, "valid_days": 7})
    granted, offered = [], []

    def grant(e):
        granted.append(e)
        return {"offer_id": sending.offer_id(c, "r1", e["customer_id"]), "code": "SPRING15", "title": "15 % off"}

    def fake_send(inp, deps):
        offered.append(inp.offer)
        return {"status": "sent"}

    sending.send_batch(batch(c, [{"customer_id": "x", "variant": "A"}]), deps=None, send=fake_send, grant=grant)
    assert granted == [{"customer_id": "x", "journey": "campaign:c", "execution_id": "campaign/c/r1/x", "step": "send",
                        "offer": {"code": "SPRING15", "discount_percent": 15, "valid_hours": 168}}]
    assert offered[0]["code"] == "SPRING15"
    with pytest.raises(CampaignError, match="offer: this campaign grants an offer"):
        sending.send_batch(batch(c, [{"customer_id": "x", "variant": "A"}]), deps=None, send=fake_send)

    def revoke(e):
        if e["customer_id"] == "y":
            raise OfferInputError("offer_id: no offer")
        assert e == {"customer_id": "x", "offer_id": sending.offer_id(c, "r1", "x"), "reason": "expired"}

    out = sending.revoke_batch(batch(c, [{"customer_id": "x", "variant": "A"}, {"customer_id": "y", "variant": "A"}]),
                               revoke)
    assert (out["revoked"], out["not_granted"]) == (1, 1)
    with pytest.raises(CampaignError, match="grants no offer"):
        sending.revoke_batch(batch(camp(), [{"customer_id": "x", "variant": "A"}]), revoke)


def test_the_campaign_state_machine_passes_the_asl_schema(tmp_path):
    import json

    from polku.journeys.lint import repo_root, schema_findings

    root = repo_root()
    path = root / "statemachines" / "campaigns" / "campaign.asl.json"
    assert schema_findings(path, root) == []
    broken = json.loads(path.read_text())
    broken["States"]["SendWave"]["ItemBatcher"]["MaxItemsPerBatch"] = "fifty"
    (tmp_path / "broken.asl.json").write_text(json.dumps(broken))
    assert schema_findings(tmp_path / "broken.asl.json", root)
